// LibTorch backend of tsunagu::nn: training (float32 on the device), batched inference and the float64 loss/gradient.
// The only translation unit that includes <torch/torch.h>; the rest of the library talks to it through the Eigen
// interface in torch_backend.hpp.
//
// Determinism and concurrency: nothing here touches LibTorch's global RNG. Each fit owns an at::Generator seeded
// with options.seed (weight init, then dropout masks; CPU random kernels are serial and lock the generator) and a
// core::Rng for the minibatch order, so several networks can be trained at once from different threads.
#include "torch_backend.hpp"

#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/progress.hpp"

namespace tsunagu::nn::detail {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using torch::Tensor;
using Clock = std::chrono::steady_clock;

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using RowVec = Eigen::Matrix<T, 1, Eigen::Dynamic>;

// Rows per forward pass in predict() and in the validation loss: bounds the activation memory.
constexpr std::int64_t kEvalChunk = 8192;

// ---- Eigen <-> tensor --------------------------------------------------------------------------------------------

Tensor to_tensor(const Eigen::Ref<const MatrixXd>& M, torch::ScalarType dtype) {
  Tensor t = torch::empty({M.rows(), M.cols()}, torch::TensorOptions().dtype(dtype));
  if (M.size() == 0) return t;
  if (dtype == torch::kFloat)
    Eigen::Map<RowMat<float>>(t.data_ptr<float>(), M.rows(), M.cols()) = M.cast<float>();
  else
    Eigen::Map<RowMat<double>>(t.data_ptr<double>(), M.rows(), M.cols()) = M;
  return t;
}

Tensor vector_tensor(const VectorXd& v, torch::ScalarType dtype) {
  Tensor t = torch::empty({v.size()}, torch::TensorOptions().dtype(dtype));
  if (v.size() == 0) return t;
  if (dtype == torch::kFloat)
    Eigen::Map<Eigen::VectorXf>(t.data_ptr<float>(), v.size()) = v.cast<float>();
  else
    Eigen::Map<VectorXd>(t.data_ptr<double>(), v.size()) = v;
  return t;
}

// (rows, cols) or (n) -> double, row-major interpretation of the tensor's memory.
MatrixXd to_matrix(Tensor t) {
  t = t.detach().to(torch::kCPU).to(torch::kDouble).contiguous();
  const Index r = t.dim() == 2 ? t.size(0) : t.numel(), c = t.dim() == 2 ? t.size(1) : 1;
  if (r * c == 0) return MatrixXd(r, c);
  return Eigen::Map<const RowMat<double>>(t.data_ptr<double>(), r, c);
}

// ---- Linear layers -----------------------------------------------------------------------------------------------

std::atomic<int>& cpu_kernels_flag() {
  static std::atomic<int> flag{[] {
    const char* env = std::getenv("TSUNAGU_NN_KERNELS");
    return env != nullptr && std::strcmp(env, "torch") == 0 ? static_cast<int>(CpuKernels::Torch)
                                                            : static_cast<int>(CpuKernels::Eigen);
  }()};
  return flag;
}

template <class T>
Eigen::Map<const RowMat<T>> cmat(const Tensor& t) {
  return {t.data_ptr<T>(), t.size(0), t.size(1)};
}
template <class T>
Eigen::Map<RowMat<T>> mmat(Tensor& t) {
  return {t.data_ptr<T>(), t.size(0), t.size(1)};
}

// Products smaller than this many flops run on one thread: below it the fork/join of a parallel region costs more
// than it saves.
constexpr double kParallelFlops = 2e6;

// f(lo, hi) over contiguous column ranges covering [0, n): one call, or one per LibTorch intra-op thread (ranges
// rounded to 16 columns, whole SIMD registers) for large products. The split depends only on n and the thread count,
// so results are reproducible for a given number of threads.
template <class F>
void split_columns(Index n, double flops, F&& f) {
  const int threads = at::get_num_threads();
  const Index parts = std::min<Index>(threads, n / 16);
  if (threads <= 1 || parts <= 1 || flops < kParallelFlops || at::in_parallel_region()) {
    f(Index{0}, n);
    return;
  }
  auto bound = [&](Index p) { return p == parts ? n : (n * p / parts) / 16 * 16; };
  at::parallel_for(0, parts, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) f(bound(p), bound(p + 1));
  });
}

template <class T>
void linear_forward(const Tensor& x, const Tensor& W, const Tensor& b, Tensor& y) {
  const auto X = cmat<T>(x);
  const auto Wm = cmat<T>(W);
  auto Y = mmat<T>(y);
  const Eigen::Map<const RowVec<T>> bias(b.data_ptr<T>(), b.size(0));
  split_columns(Y.cols(), 2.0 * static_cast<double>(Y.size()) * X.cols(), [&](Index lo, Index hi) {
    auto Yb = Y.middleCols(lo, hi - lo);
    Yb.noalias() = X * Wm.middleRows(lo, hi - lo).transpose();
    Yb.rowwise() += bias.segment(lo, hi - lo);
  });
}

template <class T>
void linear_backward(const Tensor& g, const Tensor& x, const Tensor& W, Tensor* gx, Tensor* gW, Tensor* gb) {
  const auto G = cmat<T>(g);
  const auto X = cmat<T>(x);
  const auto Wm = cmat<T>(W);
  const double flops = 2.0 * static_cast<double>(Wm.size()) * G.rows();
  if (gx != nullptr) {
    auto GX = mmat<T>(*gx);
    split_columns(GX.cols(), flops, [&](Index lo, Index hi) {
      GX.middleCols(lo, hi - lo).noalias() = G * Wm.middleCols(lo, hi - lo);
    });
  }
  if (gW != nullptr || gb != nullptr) {
    split_columns(G.cols(), flops, [&](Index lo, Index hi) {
      if (gW != nullptr) mmat<T>(*gW).middleRows(lo, hi - lo).noalias() = G.middleCols(lo, hi - lo).transpose() * X;
      if (gb != nullptr)
        Eigen::Map<RowVec<T>>(gb->data_ptr<T>(), gb->size(0)).segment(lo, hi - lo) =
            G.middleCols(lo, hi - lo).colwise().sum();
    });
  }
}

/// y = x W^T + b with Eigen GEMMs in forward and backward (CPU, float/double, 2-D x). Debian's LibTorch routes
/// torch::linear to the reference BLAS; Eigen's kernels are several times faster and independent of which BLAS the
/// system provides.
class EigenLinear : public torch::autograd::Function<EigenLinear> {
 public:
  static Tensor forward(torch::autograd::AutogradContext* ctx, Tensor x, Tensor W, Tensor b) {
    x = x.contiguous();
    W = W.contiguous();
    b = b.contiguous();
    ctx->save_for_backward({x, W});
    Tensor y = torch::empty({x.size(0), W.size(0)}, x.options());
    if (x.scalar_type() == torch::kFloat) linear_forward<float>(x, W, b, y);
    else linear_forward<double>(x, W, b, y);
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const Tensor& x = saved[0];
    const Tensor& W = saved[1];
    const Tensor g = grad_out[0].contiguous();
    Tensor gx, gW, gb;
    if (ctx->needs_input_grad(0)) gx = torch::empty_like(x);
    if (ctx->needs_input_grad(1)) gW = torch::empty_like(W);
    if (ctx->needs_input_grad(2)) gb = torch::empty({W.size(0)}, W.options());
    if (x.scalar_type() == torch::kFloat)
      linear_backward<float>(g, x, W, gx.defined() ? &gx : nullptr, gW.defined() ? &gW : nullptr,
                             gb.defined() ? &gb : nullptr);
    else
      linear_backward<double>(g, x, W, gx.defined() ? &gx : nullptr, gW.defined() ? &gW : nullptr,
                              gb.defined() ? &gb : nullptr);
    return {gx, gW, gb};
  }
};

Tensor linear(const Tensor& x, const Tensor& W, const Tensor& b, bool eigen) {
  if (eigen && x.is_cpu() && x.dim() == 2 && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble))
    return EigenLinear::apply(x, W, b);
  return torch::linear(x, W, b);
}

/// torch.optim.Adam (betas 0.9/0.999, eps 1e-8, L2 weight decay added to the gradient, no amsgrad) fused into one
/// Eigen expression per moment and parameter, for contiguous float32 CPU parameters. Mirrors the update order of
/// torch's single-tensor implementation: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
class FusedAdam {
 public:
  FusedAdam(std::vector<Tensor> params, double weight_decay)
      : params_(std::move(params)), weight_decay_(static_cast<float>(weight_decay)) {
    for (const Tensor& p : params_) {
      m_.push_back(Eigen::ArrayXf::Zero(p.numel()));
      v_.push_back(Eigen::ArrayXf::Zero(p.numel()));
    }
  }

  void step(double lr) {
    ++t_;
    constexpr double b1 = 0.9, b2 = 0.999;
    constexpr float eps = 1e-8f;
    const double bc1 = 1.0 - std::pow(b1, t_), bc2 = 1.0 - std::pow(b2, t_);
    const auto step_size = static_cast<float>(lr / bc1);
    const auto bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    for (std::size_t i = 0; i < params_.size(); ++i) {
      Tensor& p = params_[i];
      if (!p.grad().defined()) continue;
      const Tensor g = p.grad().contiguous();
      const Eigen::Index n = p.numel();
      Eigen::Map<Eigen::ArrayXf> P(p.data_ptr<float>(), n);
      const Eigen::Map<const Eigen::ArrayXf> G(g.data_ptr<float>(), n);
      Eigen::ArrayXf& M = m_[i];
      Eigen::ArrayXf& V = v_[i];
      constexpr auto b1f = static_cast<float>(b1), b2f = static_cast<float>(b2);
      constexpr auto c1f = static_cast<float>(1 - b1), c2f = static_cast<float>(1 - b2);
      if (weight_decay_ != 0.0f) {
        M = b1f * M + c1f * (G + weight_decay_ * P);
        V = b2f * V + c2f * (G + weight_decay_ * P).square();
      } else {
        M = b1f * M + c1f * G;
        V = b2f * V + c2f * G.square();
      }
      P -= step_size * M / (V.sqrt() / bc2_sqrt + eps);
    }
  }

 private:
  std::vector<Tensor> params_;
  std::vector<Eigen::ArrayXf> m_, v_;
  float weight_decay_;
  int t_ = 0;
};

// ---- the network ---------------------------------------------------------------------------------------------------

Tensor activate(const Tensor& z, Activation a) {
  switch (a) {
    case Activation::Relu: return torch::relu(z);
    case Activation::Tanh: return torch::tanh(z);
    case Activation::Sigmoid: return torch::sigmoid(z);
    case Activation::Silu: return torch::silu(z);
    case Activation::Gelu: return torch::gelu(z);  // exact (erf) form
    case Activation::LeakyRelu: return torch::leaky_relu(z, 0.01);
  }
  return z;
}

struct Net {
  std::vector<Tensor> W, b;
  Activation activation = Activation::Relu;
  double dropout = 0.0;
  bool eigen = true;  // Eigen Linear kernels on the CPU (see CpuKernels)

  /// `gen` non-null = training mode (dropout on, masks drawn from gen).
  Tensor forward(Tensor h, at::Generator* gen) const {
    for (std::size_t l = 0; l < W.size(); ++l) {
      h = linear(h, W[l], b[l], eigen);
      if (l + 1 == W.size()) break;
      h = activate(h, activation);
      if (gen != nullptr && dropout > 0) {
        // Inverted dropout as torch.nn.Dropout: keep with probability 1 - p, scale kept units by 1/(1 - p). The mask
        // is drawn on the CPU from the model's generator (a CUDA tensor gets a copy) so that it is reproducible.
        Tensor mask = torch::empty(h.sizes(), h.options().device(torch::kCPU).requires_grad(false))
                          .bernoulli_(1.0 - dropout, *gen)
                          .mul_(1.0 / (1.0 - dropout));
        h = h * mask.to(h.device());
      }
    }
    return h;
  }

  std::vector<Tensor> parameters() const {
    std::vector<Tensor> p;
    for (std::size_t l = 0; l < W.size(); ++l) {
      p.push_back(W[l]);
      p.push_back(b[l]);
    }
    return p;
  }
};

Net net_from_eigen(const MlpOptions& o, const std::vector<MatrixXd>& W, const std::vector<VectorXd>& b,
                   torch::ScalarType dtype, torch::Device dev, bool requires_grad) {
  Net net;
  net.activation = o.activation;
  net.dropout = o.dropout;
  net.eigen = cpu_kernels() == CpuKernels::Eigen;
  for (std::size_t l = 0; l < W.size(); ++l) {
    net.W.push_back(to_tensor(W[l], dtype).to(dev).requires_grad_(requires_grad));
    net.b.push_back(vector_tensor(b[l], dtype).to(dev).requires_grad_(requires_grad));
  }
  return net;
}

Tensor criterion(const Tensor& out, const Tensor& y, Task task) {
  return task == Task::Binary ? torch::binary_cross_entropy_with_logits(out, y) : torch::mse_loss(out, y);
}

// Mean loss over the rows of (X, Y), evaluated in chunks without autograd.
double eval_loss(const Net& net, const Tensor& X, const Tensor& Y, Task task) {
  torch::NoGradGuard no_grad;
  const std::int64_t n = X.size(0);
  Tensor sum = torch::zeros({}, X.options().dtype(torch::kDouble));
  for (std::int64_t s = 0; s < n; s += kEvalChunk) {
    const std::int64_t m = std::min(kEvalChunk, n - s);
    sum.add_(criterion(net.forward(X.narrow(0, s, m), nullptr), Y.narrow(0, s, m), task), static_cast<double>(m));
  }
  return sum.item<double>() / static_cast<double>(n);
}

// ---- environment -------------------------------------------------------------------------------------------------

/// Sets LibTorch's intra-op thread count for the lifetime of the guard (threads > 0) and restores it afterwards.
class ThreadsGuard {
 public:
  explicit ThreadsGuard(int threads) {
    if (threads <= 0) return;
    previous_ = at::get_num_threads();
    if (previous_ == threads) previous_ = 0;
    else at::set_num_threads(threads);
  }
  ~ThreadsGuard() {
    if (previous_ > 0) at::set_num_threads(previous_);
  }
  ThreadsGuard(const ThreadsGuard&) = delete;
  ThreadsGuard& operator=(const ThreadsGuard&) = delete;

 private:
  int previous_ = 0;
};

/// "cpu" -> CPU; "cuda" -> CUDA (InvalidArgument without a GPU when `strict`, else CPU); "auto" -> CUDA if present.
torch::Device resolve_device(const std::string& device, bool strict) {
  if (device == "cpu") return torch::kCPU;
  const bool cuda = torch::cuda::is_available();
  if (device == "cuda" && !cuda && strict)
    throw InvalidArgument("option 'device' = 'cuda': LibTorch sees no CUDA device (this LibTorch build is CPU-only "
                          "or no GPU is visible); use 'auto' or 'cpu'");
  return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

std::string fmt_g(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

/// Progress line for training ("nn train: epoch 12/500, train 0.0123, val 0.0150, lr 0.001, 3.2 s"). Follows the
/// conventions of core::Progress: nothing during the first second, on a terminal a redraw at most every 0.2 s,
/// otherwise a line per 10 % of the epochs (or every 10 s), a final line if anything was shown; silenced globally by
/// core::set_progress_enabled(false).
class EpochLine {
 public:
  EpochLine(bool enabled, int epochs) : on_(enabled && core::progress_enabled()), epochs_(epochs) {
    if (on_) tty_ = ::isatty(::fileno(stderr)) == 1;
    start_ = last_ = Clock::now();
  }

  void update(int epoch, double train, double val, double lr) {
    if (!on_) return;
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - start_).count() < 1.0) return;
    const int decile = static_cast<int>(10LL * epoch / epochs_);
    if (drawn_) {
      if (tty_ && now - last_ < std::chrono::milliseconds(200)) return;
      if (!tty_ && decile == last_decile_ && now - last_ < std::chrono::seconds(10)) return;
    }
    last_ = now;
    last_decile_ = decile;
    std::string line = "nn train: epoch " + std::to_string(epoch) + "/" + std::to_string(epochs_) + ", train " +
                       fmt_g(train);
    if (!std::isnan(val)) line += ", val " + fmt_g(val);
    line += ", lr " + fmt_g(lr, 3) + ", " + fmt_g(elapsed(), 3) + " s";
    draw(line, false);
  }

  void finish(const std::string& message, double samples_per_second) {
    if (!on_ || !drawn_) return;
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.0f", samples_per_second);
    draw("nn train: " + message + ", " + fmt_g(elapsed(), 3) + " s, " + rate + " samples/s", true);
  }

 private:
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  void draw(const std::string& line, bool final) {
    std::string out;
    if (tty_) out += '\r';
    out += line;
    if (tty_) out += "\033[K";
    if (final || !tty_) out += '\n';
    std::fputs(out.c_str(), stderr);
    std::fflush(stderr);
    drawn_ = true;
  }

  bool on_ = false, tty_ = false, drawn_ = false;
  int epochs_ = 1, last_decile_ = -1;
  Clock::time_point start_, last_;
};

void set_lr(torch::optim::Adam& opt, double lr) {
  for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

double scheduled_lr(const MlpOptions& o, int epoch, double plateau_lr) {
  switch (o.schedule) {
    case LrSchedule::Constant: return o.learning_rate;
    case LrSchedule::Step: return o.learning_rate * std::pow(o.lr_factor, epoch / o.lr_step);
    case LrSchedule::Cosine: {
      const double lo = o.learning_rate * o.lr_factor;
      return lo + (o.learning_rate - lo) * 0.5 * (1.0 + std::cos(M_PI * epoch / o.epochs));
    }
    case LrSchedule::Plateau: return plateau_lr;
  }
  return o.learning_rate;
}

}  // namespace

// ---- public (private-header) functions -----------------------------------------------------------------------------

void set_cpu_kernels(CpuKernels kernels) noexcept { cpu_kernels_flag().store(static_cast<int>(kernels)); }

CpuKernels cpu_kernels() noexcept { return static_cast<CpuKernels>(cpu_kernels_flag().load()); }

bool cuda_available() { return torch::cuda::is_available(); }

void train(const MlpOptions& o, const MatrixXd& X, const MatrixXd& Y, const MatrixXd& Xv, const MatrixXd& Yv,
           core::Rng& rng, std::vector<MatrixXd>& W_out, std::vector<VectorXd>& b_out, TrainHistory& history) {
  ThreadsGuard threads(o.threads);
  const torch::Device dev = resolve_device(o.device, true);
  torch::AutoGradMode grad_mode(true);
  history = TrainHistory{};
  history.device = dev.is_cuda() ? "cuda:" + std::to_string(std::max<int>(0, dev.index())) : "cpu";

  // Weights as torch.nn.Linear initialises them (kaiming_uniform_(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  // for W, the same bound for b), drawn W_0, b_0, W_1, ... from the model's own generator.
  at::Generator gen = at::detail::createCPUGenerator(o.seed);
  std::vector<std::int64_t> sizes = {X.cols()};
  for (int h : o.hidden) sizes.push_back(h);
  sizes.push_back(Y.cols());
  const bool eigen = dev.is_cpu() && cpu_kernels() == CpuKernels::Eigen;
  Net net;
  net.activation = o.activation;
  net.dropout = o.dropout;
  net.eigen = eigen;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(sizes[l]));
    Tensor W = torch::empty({sizes[l + 1], sizes[l]}, torch::kFloat).uniform_(-bound, bound, gen);
    Tensor b = torch::empty({sizes[l + 1]}, torch::kFloat).uniform_(-bound, bound, gen);
    net.W.push_back(W.to(dev).requires_grad_(true));
    net.b.push_back(b.to(dev).requires_grad_(true));
  }
  const std::vector<Tensor> params = net.parameters();

  // The whole data set goes to the device once; minibatches are index_select()s of a shuffled permutation.
  const Tensor Xt = to_tensor(X, torch::kFloat).to(dev), Yt = to_tensor(Y, torch::kFloat).to(dev);
  const bool has_val = Xv.rows() > 0;
  const Tensor Xvt = has_val ? to_tensor(Xv, torch::kFloat).to(dev) : Tensor();
  const Tensor Yvt = has_val ? to_tensor(Yv, torch::kFloat).to(dev) : Tensor();

  std::optional<FusedAdam> fused;
  std::optional<torch::optim::Adam> adam;
  if (eigen) fused.emplace(params, o.weight_decay);
  else adam.emplace(params, torch::optim::AdamOptions(o.learning_rate).weight_decay(o.weight_decay));

  const std::int64_t n = X.rows();
  const std::int64_t batch = std::min<std::int64_t>(o.batch_size, n);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::vector<Tensor> best_params;
  double best = std::numeric_limits<double>::infinity();
  double plateau_best = std::numeric_limits<double>::infinity();
  double plateau_lr = o.learning_rate;
  int since_best = 0, plateau_bad = 0;
  std::string stop_reason;
  EpochLine line(o.progress, o.epochs);

  const auto loop_start = Clock::now();
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    const double lr = scheduled_lr(o, epoch, plateau_lr);
    if (adam) set_lr(*adam, lr);

    const auto perm = core::permutation(static_cast<std::size_t>(n), rng);
    std::copy(perm.begin(), perm.end(), order.begin());
    const Tensor index = torch::from_blob(order.data(), {n}, torch::kLong).to(dev);
    Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(dev));
    for (std::int64_t start = 0; start < n; start += batch) {
      const std::int64_t nb = std::min(batch, n - start);
      const Tensor idx = index.narrow(0, start, nb);
      const Tensor xb = Xt.index_select(0, idx), yb = Yt.index_select(0, idx);
      const Tensor loss = criterion(net.forward(xb, &gen), yb, o.task);
      for (const Tensor& p : params) p.mutable_grad().reset();
      loss.backward();
      if (fused) fused->step(lr);
      else adam->step();
      loss_sum.add_(loss.detach(), static_cast<double>(nb));
    }
    const double train_loss = loss_sum.item<double>() / static_cast<double>(n);
    history.train_loss.push_back(train_loss);
    history.learning_rate.push_back(lr);
    history.epochs_run = epoch + 1;

    double val_loss = std::numeric_limits<double>::quiet_NaN();
    if (has_val) {
      val_loss = eval_loss(net, Xvt, Yvt, o.task);
      history.val_loss.push_back(val_loss);
    }
    line.update(epoch + 1, train_loss, val_loss, lr);

    if (!std::isfinite(train_loss)) {
      if (!has_val || history.best_epoch < 0)
        throw NumericalError("MLP training diverged: non-finite training loss at epoch " + std::to_string(epoch + 1) +
                             " (lower learning_rate, or check the data scaling)");
      stop_reason = "stopped at epoch " + std::to_string(epoch + 1) + ": non-finite training loss";
      break;
    }

    // Best epoch (strictly lowest validation loss) and early stopping.
    const double monitor = has_val ? val_loss : train_loss;
    if (has_val) {
      if (val_loss < best) {
        best = val_loss;
        history.best_epoch = epoch;
        since_best = 0;
        torch::NoGradGuard no_grad;
        if (best_params.empty())
          for (const Tensor& p : params) best_params.push_back(p.detach().clone());
        else
          for (std::size_t i = 0; i < params.size(); ++i) best_params[i].copy_(params[i]);
      } else {
        ++since_best;
      }
    }
    // Plateau schedule as torch.optim.lr_scheduler.ReduceLROnPlateau(mode="min", threshold=1e-4 relative,
    // patience=lr_patience): the lr is reduced once more than lr_patience epochs passed without improvement.
    if (o.schedule == LrSchedule::Plateau && std::isfinite(monitor)) {
      if (monitor < plateau_best * (1.0 - 1e-4) || !std::isfinite(plateau_best)) {
        plateau_best = monitor;
        plateau_bad = 0;
      } else if (++plateau_bad > o.lr_patience) {
        plateau_lr *= o.lr_factor;
        plateau_bad = 0;
      }
    }
    if (has_val && o.patience > 0 && since_best >= o.patience) {
      history.early_stopped = true;
      stop_reason = "early stop after " + std::to_string(epoch + 1) + " epochs";
      break;
    }
  }
  const double loop_seconds = std::chrono::duration<double>(Clock::now() - loop_start).count();

  if (has_val && history.best_epoch >= 0) {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best_params[i]);
  } else {
    history.best_epoch = history.epochs_run - 1;
  }
  if (stop_reason.empty()) stop_reason = "ran " + std::to_string(history.epochs_run) + " epochs";
  history.message = stop_reason + (has_val ? " (best epoch " + std::to_string(history.best_epoch + 1) +
                                                 ", validation loss " + fmt_g(best) + ")"
                                           : " (no validation data: final weights kept)");
  history.samples_per_second =
      loop_seconds > 0 ? static_cast<double>(n) * history.epochs_run / loop_seconds : 0.0;

  W_out.clear();
  b_out.clear();
  for (std::size_t l = 0; l < net.W.size(); ++l) {
    W_out.push_back(to_matrix(net.W[l]));
    b_out.push_back(to_matrix(net.b[l]).col(0));
  }
  line.finish(history.message, history.samples_per_second);
}

MatrixXd forward(const MlpOptions& o, const std::vector<MatrixXd>& W, const std::vector<VectorXd>& b,
                 const MatrixXd& X) {
  ThreadsGuard threads(o.threads);
  const torch::Device dev = resolve_device(o.device, false);
  torch::NoGradGuard no_grad;
  const Net net = net_from_eigen(o, W, b, torch::kFloat, dev, false);
  MatrixXd out(X.rows(), W.back().rows());
  for (Index s = 0; s < X.rows(); s += kEvalChunk) {
    const Index m = std::min<Index>(kEvalChunk, X.rows() - s);
    out.middleRows(s, m) = to_matrix(net.forward(to_tensor(X.middleRows(s, m), torch::kFloat).to(dev), nullptr));
  }
  return out;
}

double loss(const MlpOptions& o, const std::vector<MatrixXd>& W, const std::vector<VectorXd>& b, const MatrixXd& X,
            const MatrixXd& Y, VectorXd* gradient) {
  ThreadsGuard threads(o.threads);
  torch::AutoGradMode grad_mode(gradient != nullptr);
  const Net net = net_from_eigen(o, W, b, torch::kDouble, torch::kCPU, gradient != nullptr);
  const Tensor l = criterion(net.forward(to_tensor(X, torch::kDouble), nullptr), to_tensor(Y, torch::kDouble), o.task);
  if (gradient != nullptr) {
    l.backward();
    Index total = 0;
    for (const Tensor& p : net.parameters()) total += p.numel();
    gradient->resize(total);
    Index k = 0;
    for (const Tensor& p : net.parameters()) {
      const Tensor g = p.grad().defined() ? p.grad().contiguous() : torch::zeros_like(p);
      std::memcpy(gradient->data() + k, g.data_ptr<double>(), static_cast<std::size_t>(g.numel()) * sizeof(double));
      k += g.numel();
    }
  }
  return l.item<double>();
}

}  // namespace tsunagu::nn::detail
