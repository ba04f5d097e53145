#include "tsunagu/sparse/exhaustive.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>

#include <Eigen/QR>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/thread_pool.hpp"
#include "tsunagu/sparse/cv.hpp"

namespace tsunagu::sparse {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

constexpr int kMaxK = 16;  // deeper subsets are never practical to enumerate exhaustively

double binom(std::size_t n, std::size_t k) {
  if (k > n) return 0;
  double r = 1;
  for (std::size_t i = 1; i <= k; ++i) r = r * static_cast<double>(n - k + i) / static_cast<double>(i);
  return r;
}

int effective_k(std::size_t p, int max_k) { return static_cast<int>(std::min<std::size_t>(p, static_cast<std::size_t>(max_k))); }

// Cost model (ns per subset-fold fit of size k, storage and histogram included): measured 2x faster than this on
// a 2-core x86-64 machine (bench/RESULTS.md), so estimates err on the slow side.
double fit_cost_ns(int k) { return 20.0 + 5.5 * (k + 1) * (k + 1); }

std::string fmt_seconds(double s) {
  std::ostringstream os;
  os.precision(3);
  if (s < 120) os << s << " s";
  else if (s < 7200) os << s / 60 << " min";
  else if (s < 172800) os << s / 3600 << " h";
  else os << s / 86400 << " days";
  return os.str();
}

// Per-fold sufficient statistics on Z = [1, standardised X].
struct FoldStats {
  MatrixXd G;   // Z_T' Z_T  (p+1, p+1)
  VectorXd b;   // Z_T' y_T
  MatrixXd H;   // Z_V' Z_V
  VectorXd c;   // Z_V' y_V
  double yy = 0;  // y_V' y_V
};

// A scored subset kept for the ranking (only the best `top` of them are stored with their features).
struct Entry {
  double err;
  std::uint8_t k;
  std::array<std::uint16_t, 16> f;
};
bool better(const Entry& a, const Entry& b) {
  if (a.err != b.err) return a.err < b.err;
  if (a.k != b.k) return a.k < b.k;
  return std::lexicographical_compare(a.f.begin(), a.f.begin() + a.k, b.f.begin(), b.f.begin() + b.k);
}
// Bounded max-heap on `better`: the worst kept entry sits on top and is replaced by anything better.
class TopN {
 public:
  explicit TopN(std::size_t cap) : cap_(cap) {}
  void offer(const Entry& e) {
    if (heap_.size() < cap_) {
      heap_.push_back(e);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better(e, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = e;
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }
  const std::vector<Entry>& entries() const { return heap_; }

 private:
  std::size_t cap_;
  std::vector<Entry> heap_;
};

constexpr std::size_t kMaxSubsets = std::size_t{1} << 28;  // ~2.4 GB of per-subset results

// Depth-first enumeration below one root feature, extending per-fold Cholesky factors one feature at a time.
class Enumerator {
 public:
  Enumerator(const std::vector<FoldStats>& folds, std::size_t p, int K, double n)
      : folds_(folds), p_(p), K_(K), n_(n) {
    const auto F = folds.size();
    L_.assign(F, MatrixXd::Zero(K + 1, K + 1));
    w_.assign(F, VectorXd::Zero(K + 1));
    for (std::size_t f = 0; f < F; ++f) {
      L_[f](0, 0) = std::sqrt(folds[f].G(0, 0));
      w_[f](0) = folds[f].b(0) / L_[f](0, 0);
    }
    idx_.assign(static_cast<std::size_t>(K + 1), 0);
    beta_.resize(K + 1);
    tmp_.resize(K + 1);
  }

  // Enumerate all subsets whose smallest feature is `root`; append their errors/sizes, offer them to `top`.
  void run(std::size_t root, std::vector<double>& errs, std::vector<std::uint8_t>& sizes, std::size_t& deficient,
           TopN& top, core::Progress* progress) {
    progress_ = progress;
    errs_ = &errs;
    sizes_ = &sizes;
    deficient_ = &deficient;
    top_ = &top;
    visit(0, root);
  }

 private:
  // Add feature j at position `depth` (0-based count of features already chosen), score, recurse.
  void visit(int depth, std::size_t j) {
    idx_[static_cast<std::size_t>(depth + 1)] = static_cast<Index>(j + 1);
    const int d = depth + 1;  // row of the new feature in L (row 0 = intercept)
    double sse = 0;
    bool ok = true;
    for (std::size_t f = 0; f < folds_.size() && ok; ++f) {
      const FoldStats& fs = folds_[f];
      MatrixXd& L = L_[f];
      VectorXd& w = w_[f];
      const Index col = static_cast<Index>(j + 1);
      double ll = 0;
      for (int r = 0; r < d; ++r) {
        double s = fs.G(idx_[static_cast<std::size_t>(r)], col);
        for (int c = 0; c < r; ++c) s -= L(r, c) * L(d, c);
        L(d, r) = s / L(r, r);
        ll += L(d, r) * L(d, r);
      }
      const double gjj = fs.G(col, col);
      const double piv = gjj - ll;
      // Collinear with the columns already in (or too few training rows): every superset is singular too.
      if (!(piv > 1e-9 * gjj)) {
        ok = false;
        break;
      }
      L(d, d) = std::sqrt(piv);
      double s = fs.b(col);
      for (int c = 0; c < d; ++c) s -= L(d, c) * w(c);
      w(d) = s / L(d, d);
      // β = L^{-T} w
      for (int r = d; r >= 0; --r) {
        double t = w(r);
        for (int c = r + 1; c <= d; ++c) t -= L(c, r) * beta_(c);
        beta_(r) = t / L(r, r);
      }
      // held-out SSE = yy − 2 β'c + β'Hβ
      double bc = 0, bhb = 0;
      for (int r = 0; r <= d; ++r) {
        const Index ir = idx_[static_cast<std::size_t>(r)];
        bc += beta_(r) * fs.c(ir);
        double h = 0;
        for (int c = 0; c <= d; ++c) h += fs.H(ir, idx_[static_cast<std::size_t>(c)]) * beta_(c);
        bhb += beta_(r) * h;
      }
      sse += std::max(fs.yy - 2 * bc + bhb, 0.0);
    }
    if (!ok) {
      // Count the subset and all its supersets in this branch as rank-deficient.
      double skipped = 1;
      for (int m = 1; m <= K_ - d; ++m) skipped += binom(p_ - 1 - j, static_cast<std::size_t>(m));
      *deficient_ += static_cast<std::size_t>(skipped);
      return;
    }
    Entry e;
    e.err = std::sqrt(sse / n_);
    e.k = static_cast<std::uint8_t>(d);
    for (int r = 1; r <= d; ++r) e.f[static_cast<std::size_t>(r - 1)] = static_cast<std::uint16_t>(idx_[static_cast<std::size_t>(r)] - 1);
    errs_->push_back(e.err);
    sizes_->push_back(e.k);
    top_->offer(e);
    // Tick in blocks: one root can hold most of the subsets, so per-root ticks would stall the progress line.
    if (progress_ && ++pending_ == 65536) {
      progress_->tick(pending_);
      pending_ = 0;
    }
    if (d < K_)
      for (std::size_t nj = j + 1; nj < p_; ++nj) visit(d, nj);
  }

  const std::vector<FoldStats>& folds_;
  std::size_t p_;
  int K_;
  double n_;
  std::vector<MatrixXd> L_;
  std::vector<VectorXd> w_;
  std::vector<Index> idx_;
  VectorXd beta_, tmp_;
  std::vector<double>* errs_ = nullptr;
  std::vector<std::uint8_t>* sizes_ = nullptr;
  TopN* top_ = nullptr;
  core::Progress* progress_ = nullptr;

 public:
  std::size_t pending_ = 0;  // scored subsets not yet reported to the progress line
  std::size_t* deficient_ = nullptr;
};

}  // namespace

void ExhaustiveOptions::validate(std::size_t n, std::size_t p) const {
  if (max_k < 1) throw InvalidArgument("max_k: must be >= 1 (got " + std::to_string(max_k) + ")");
  if (effective_k(p, max_k) > kMaxK)
    throw InvalidArgument("max_k: at most " + std::to_string(kMaxK) + " features per subset are supported (got " +
                          std::to_string(max_k) + ")");
  if (p > 65535) throw InvalidArgument("data: at most 65535 features for exhaustive search");
  if (fold_ids.empty()) {
    if (folds < 2) throw InvalidArgument("folds: must be >= 2 (got " + std::to_string(folds) + ")");
    if (static_cast<std::size_t>(folds) > n)
      throw InvalidArgument("folds: " + std::to_string(folds) + " folds for only " + std::to_string(n) + " rows");
  } else {
    CvOptions c;
    c.fold_ids = fold_ids;
    c.validate(n);
  }
  if (top < 1) throw InvalidArgument("top: must be >= 1 (got " + std::to_string(top) + ")");
  if (dos_bins < 1) throw InvalidArgument("dos_bins: must be >= 1 (got " + std::to_string(dos_bins) + ")");
  if (!(time_limit > 0)) throw InvalidArgument("time_limit: must be > 0 seconds");
  if (n < 3) throw InvalidArgument("data: need at least 3 rows (got " + std::to_string(n) + ")");
  if (p < 1) throw InvalidArgument("data: need at least 1 feature column");
}

std::size_t count_subsets(std::size_t p, int max_k) {
  double total = 0;
  for (int k = 1; k <= effective_k(p, max_k); ++k) total += binom(p, static_cast<std::size_t>(k));
  if (total >= static_cast<double>(std::numeric_limits<std::size_t>::max())) return std::numeric_limits<std::size_t>::max();
  return static_cast<std::size_t>(std::llround(total));
}

double estimate_exhaustive_seconds(std::size_t n, std::size_t p, const ExhaustiveOptions& o) {
  const int K = effective_k(p, o.max_k);
  const int folds = o.fold_ids.empty() ? o.folds : *std::max_element(o.fold_ids.begin(), o.fold_ids.end()) + 1;
  const unsigned threads = o.threads ? o.threads : core::default_threads();
  double ns = 0;
  for (int k = 1; k <= K; ++k) ns += binom(p, static_cast<std::size_t>(k)) * folds * fit_cost_ns(k);
  ns /= 0.85 * std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(p)));  // imperfect scaling
  ns += static_cast<double>(n) * static_cast<double>((p + 1) * (p + 1)) * (folds + 1) * 0.5;  // Gram matrices
  return ns * 1e-9;
}

ExhaustiveResult exhaustive_search(const MatrixXd& X, const VectorXd& y, const ExhaustiveOptions& o) {
  const auto n = static_cast<std::size_t>(X.rows()), p = static_cast<std::size_t>(X.cols());
  if (static_cast<std::size_t>(y.size()) != n)
    throw InvalidArgument("y: has " + std::to_string(y.size()) + " rows but X has " + std::to_string(n));
  o.validate(n, p);
  for (Index j = 0; j < X.cols(); ++j)
    for (Index i = 0; i < X.rows(); ++i)
      if (!std::isfinite(X(i, j)))
        throw InvalidArgument("X: non-finite value at row " + std::to_string(i) + ", column " + std::to_string(j));
  for (Index i = 0; i < y.size(); ++i)
    if (!std::isfinite(y(i))) throw InvalidArgument("y: non-finite value at row " + std::to_string(i));

  const int K = effective_k(p, o.max_k);
  const double est = estimate_exhaustive_seconds(n, p, o);
  const std::size_t nsub = count_subsets(p, K);
  if (nsub > kMaxSubsets) {
    std::ostringstream os;
    os << "exhaustive search over " << static_cast<double>(nsub) << " subsets (p=" << p << ", max_k=" << K
       << ") exceeds the " << kMaxSubsets << " subsets whose CV errors can be kept in memory; lower max_k";
    throw InvalidArgument(os.str());
  }
  if (est > o.time_limit) {
    std::ostringstream os;
    os << "exhaustive search over " << static_cast<double>(nsub) << " subsets (p=" << p << ", max_k=" << K
       << ") would take about " << fmt_seconds(est) << ", over the limit of " << fmt_seconds(o.time_limit)
       << "; lower max_k or raise the time limit (time_limit, CLI --time-limit)";
    throw InvalidArgument(os.str());
  }

  const auto t0 = std::chrono::steady_clock::now();
  ExhaustiveResult res;
  res.max_k = K;
  res.fold_ids = o.fold_ids.empty() ? make_folds(n, o.folds, o.seed) : o.fold_ids;
  const int F = *std::max_element(res.fold_ids.begin(), res.fold_ids.end()) + 1;
  res.folds = F;

  // OLS with an intercept is invariant to affine rescaling of the columns, so work on standardised columns (better
  // conditioned Gram matrices) and centred y; constant columns become zero columns and are caught as collinear.
  const VectorXd mean = X.colwise().mean().transpose();
  VectorXd sd(static_cast<Index>(p));
  MatrixXd Z(static_cast<Index>(n), static_cast<Index>(p + 1));
  Z.col(0).setOnes();
  for (Index j = 0; j < static_cast<Index>(p); ++j) {
    sd(j) = std::sqrt((X.col(j).array() - mean(j)).square().mean());
    if (sd(j) > 0) Z.col(j + 1) = (X.col(j).array() - mean(j)) / sd(j);
    else Z.col(j + 1).setZero();
  }
  const double ybar = y.mean();
  const VectorXd yc = y.array() - ybar;
  const MatrixXd Gall = Z.transpose() * Z;
  const VectorXd ball = Z.transpose() * yc;
  std::vector<FoldStats> folds(static_cast<std::size_t>(F));
  for (int f = 0; f < F; ++f) {
    std::vector<Index> te;
    for (std::size_t i = 0; i < n; ++i)
      if (res.fold_ids[i] == f) te.push_back(static_cast<Index>(i));
    const MatrixXd Zv = Z(te, Eigen::all);
    const VectorXd yv = yc(te);
    auto& fs = folds[static_cast<std::size_t>(f)];
    fs.H = Zv.transpose() * Zv;
    fs.c = Zv.transpose() * yv;
    fs.yy = yv.squaredNorm();
    fs.G = Gall - fs.H;
    fs.b = ball - fs.c;
  }

  // Roots are handed out dynamically (their subtree sizes differ a lot); results are stored per root and joined
  // in root order, so the output does not depend on scheduling.
  std::vector<std::vector<double>> errs(p);
  std::vector<std::vector<std::uint8_t>> sizes(p);
  std::vector<std::size_t> deficient(p, 0);
  std::atomic<std::size_t> next{0};
  const unsigned threads = std::min<unsigned>(o.threads ? o.threads : core::default_threads(), static_cast<unsigned>(p));
  std::vector<TopN> tops(threads, TopN(static_cast<std::size_t>(o.top)));
  std::optional<core::Progress> progress;
  if (o.progress) progress.emplace("sparse exhaustive (" + std::to_string(nsub) + " subsets)", nsub);
  core::parallel_for(threads, threads, [&](std::size_t, std::size_t, unsigned chunk) {
    Enumerator en(folds, p, K, static_cast<double>(n));
    for (;;) {
      const std::size_t root = next.fetch_add(1);
      if (root >= p) break;
      en.run(root, errs[root], sizes[root], deficient[root], tops[chunk], progress ? &*progress : nullptr);
      if (progress) {
        progress->tick(en.pending_ + deficient[root]);
        en.pending_ = 0;
      }
    }
  });
  if (progress) progress->finish();

  // Join per-root results in root order (lexicographic DFS order, independent of scheduling).
  std::size_t scored = 0;
  for (std::size_t r = 0; r < p; ++r) scored += errs[r].size();
  res.all_cv_errors.reserve(scored);
  std::vector<std::uint8_t> all_k;
  all_k.reserve(scored);
  for (std::size_t r = 0; r < p; ++r) {
    res.all_cv_errors.insert(res.all_cv_errors.end(), errs[r].begin(), errs[r].end());
    all_k.insert(all_k.end(), sizes[r].begin(), sizes[r].end());
    res.n_rank_deficient += deficient[r];
    std::vector<double>().swap(errs[r]);
    std::vector<std::uint8_t>().swap(sizes[r]);
  }
  res.n_subsets = scored + res.n_rank_deficient;
  if (scored == 0)
    throw NumericalError("exhaustive search: every subset is rank-deficient (collinear or constant columns, or too few rows per fold)");

  std::vector<Entry> best;
  for (const auto& t : tops) best.insert(best.end(), t.entries().begin(), t.entries().end());
  std::sort(best.begin(), best.end(), better);
  const std::size_t top = std::min<std::size_t>(static_cast<std::size_t>(o.top), best.size());
  const double tss = yc.squaredNorm();
  for (std::size_t t = 0; t < top; ++t) {
    const Entry& rc = best[t];
    SubsetModel m;
    m.features.assign(rc.f.begin(), rc.f.begin() + rc.k);
    m.cv_error = rc.err;
    std::vector<Index> cols{0};
    for (int f : m.features) cols.push_back(f + 1);
    const MatrixXd Zs = Z(Eigen::all, cols);
    const VectorXd bs = Zs.colPivHouseholderQr().solve(yc);
    const VectorXd resid = yc - Zs * bs;
    m.r2 = tss > 0 ? 1 - resid.squaredNorm() / tss : 0;
    m.coef.resize(rc.k);
    m.coef_std.resize(rc.k);
    m.intercept = ybar + bs(0);
    for (int q = 0; q < rc.k; ++q) {
      const int f = m.features[static_cast<std::size_t>(q)];
      m.coef_std(q) = bs(q + 1);
      m.coef(q) = bs(q + 1) / sd(f);
      m.intercept -= m.coef(q) * mean(f);
    }
    res.models.push_back(std::move(m));
  }

  // Density of states of the CV error.
  const auto [mn, mx] = std::minmax_element(res.all_cv_errors.begin(), res.all_cv_errors.end());
  double lo = *mn, hi = *mx;
  if (!(hi > lo)) {
    lo -= 0.5 * std::max(std::abs(lo), 1e-12);
    hi += 0.5 * std::max(std::abs(hi), 1e-12);
  }
  const int B = o.dos_bins;
  res.dos_edges.resize(static_cast<std::size_t>(B + 1));
  for (int b = 0; b <= B; ++b) res.dos_edges[static_cast<std::size_t>(b)] = lo + (hi - lo) * b / B;
  res.dos_counts.assign(static_cast<std::size_t>(B), 0.0);
  res.dos_counts_by_k.assign(static_cast<std::size_t>(K), std::vector<double>(static_cast<std::size_t>(B), 0.0));
  for (std::size_t i = 0; i < scored; ++i) {
    int b = static_cast<int>((res.all_cv_errors[i] - lo) / (hi - lo) * B);
    b = std::clamp(b, 0, B - 1);
    res.dos_counts[static_cast<std::size_t>(b)] += 1;
    res.dos_counts_by_k[static_cast<std::size_t>(all_k[i] - 1)][static_cast<std::size_t>(b)] += 1;
  }

  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.fits_per_second = res.seconds > 0 ? static_cast<double>(scored) * F / res.seconds : 0;
  return res;
}

}  // namespace tsunagu::sparse
