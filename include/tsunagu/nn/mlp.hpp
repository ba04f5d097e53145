#pragma once
/// Fully connected neural networks (multi-layer perceptrons) trained with LibTorch, for regression of vector
/// targets (XAS spectra on an energy mesh) and binary classification (bio-interfaces). LibTorch stays behind this
/// header: callers see Eigen matrices only. A plain Eigen forward pass (predict_reference) is the correctness
/// oracle for the LibTorch backend and serves machines where only inference is needed.
///
/// Shapes: X (n_samples, n_features), Y (n_samples, n_outputs); rows are samples. Weights are stored in the
/// scaled space the network sees: inputs standardised by the feature scaler, outputs by the target scaler.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

namespace tsunagu::nn {

enum class Activation { Relu, Tanh, Sigmoid, Silu, Gelu, LeakyRelu };
Activation parse_activation(std::string_view name);  ///< "relu"|"tanh"|"sigmoid"|"silu"|"gelu"|"leaky_relu"
const char* activation_name(Activation a);

enum class Task {
  Regression,  ///< mean squared error on (scaled) targets; predict returns targets in original units
  Binary,      ///< one output, binary cross-entropy on logits; targets 0/1; predict returns P(y = 1)
};
Task parse_task(std::string_view name);  ///< "regression" | "binary"
const char* task_name(Task t);

enum class LrSchedule {
  Constant,
  Step,     ///< lr *= lr_factor every lr_step epochs
  Cosine,   ///< cosine annealing from learning_rate to learning_rate * lr_factor over `epochs`
  Plateau,  ///< lr *= lr_factor once more than lr_patience epochs pass without a 1e-4 relative improvement of the
            ///< validation loss (the training loss when there is no validation data)
};
LrSchedule parse_lr_schedule(std::string_view name);  ///< "constant"|"step"|"cosine"|"plateau"
const char* lr_schedule_name(LrSchedule s);

struct MlpOptions {
  std::vector<int> hidden = {128, 128};  ///< widths of the hidden layers (>= 1 each); empty = linear model
  Activation activation = Activation::Relu;
  double dropout = 0.0;                  ///< dropout probability after each hidden activation, [0, 1)
  double weight_decay = 0.0;             ///< L2 penalty coefficient as in torch.optim.Adam(weight_decay=), >= 0
  double learning_rate = 1e-3;           ///< Adam step size, > 0
  LrSchedule schedule = LrSchedule::Plateau;
  double lr_factor = 0.5;                ///< (0, 1]
  int lr_patience = 20;                  ///< epochs (Plateau)
  int lr_step = 100;                     ///< epochs (Step)
  int epochs = 500;                      ///< maximum epochs, >= 1
  int batch_size = 32;                   ///< >= 1 (clipped to n_samples)
  int patience = 50;                     ///< early stopping: epochs without validation improvement; 0 = off
  double validation_fraction = 0.1;      ///< held out of X when no validation set is passed; [0, 0.9)
  bool scale_features = true;            ///< standardise inputs (constant columns get scale 1)
  bool scale_targets = true;             ///< standardise targets (Regression only)
  /// clamp each input to the range it spans in the training rows before predicting. A descriptor column that is
  /// near-constant in training (a rare element) can otherwise reach hundreds of standard deviations in a new
  /// structure and drive the network far outside anything it was fitted on.
  bool clip_inputs = false;
  Task task = Task::Regression;
  std::uint64_t seed = 0;                ///< same seed, data and threads -> same network (init, shuffles, dropout)
  std::string device = "auto";           ///< "auto" (CUDA when LibTorch sees a GPU) | "cpu" | "cuda"
  int threads = 0;                       ///< LibTorch intra-op threads, 0 = leave LibTorch's default
  bool progress = false;                 ///< progress line on stderr (epoch, losses)

  /// Throws InvalidArgument naming the field and value.
  void validate() const;
  nlohmann::json to_json() const;
  static MlpOptions from_json(const nlohmann::json& j);  ///< unknown keys refused (InvalidArgument naming them)
};

struct TrainHistory {
  std::vector<double> train_loss;  ///< (epochs_run) mean training loss per epoch (scaled units)
  std::vector<double> val_loss;    ///< (epochs_run) validation loss per epoch; empty without validation data
  std::vector<double> learning_rate;  ///< (epochs_run) Adam step size used in each epoch (after the schedule)
  int epochs_run = 0;
  int best_epoch = -1;             ///< 0-based epoch whose weights were kept (lowest validation loss)
  bool early_stopped = false;
  std::string device;              ///< "cpu" or "cuda:0"
  double seconds = 0.0;
  double samples_per_second = 0.0; ///< training throughput (samples processed / wall time)
  std::string message;             ///< e.g. "early stop after 130 epochs (best epoch 81, validation loss 0.2)" (1-based)
};

/// Affine scaler x' = (x - mean) / scale per column.
struct Scaler {
  Eigen::RowVectorXd mean, scale;
  Eigen::MatrixXd transform(const Eigen::MatrixXd& x) const;
  Eigen::MatrixXd inverse(const Eigen::MatrixXd& x) const;
};

class Mlp {
 public:
  Mlp() = default;

  /// Train a network. Non-finite values, shape mismatches (X/Y rows, validation columns), fewer than 2 samples,
  /// non-0/1 targets for Binary: InvalidArgument naming the problem. A validation set, when given, is used for
  /// early stopping and the plateau schedule; otherwise validation_fraction of the rows (seeded shuffle) is held
  /// out. The weights of the best validation epoch are kept.
  static Mlp fit(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, const MlpOptions& options,
                 const Eigen::MatrixXd* X_val = nullptr, const Eigen::MatrixXd* Y_val = nullptr);

  /// (n_samples, n_outputs) predictions in original units (probabilities for Binary), LibTorch, in batches.
  Eigen::MatrixXd predict(const Eigen::MatrixXd& X) const;
  /// The same through a plain Eigen forward pass (dropout off): the oracle for predict().
  Eigen::MatrixXd predict_reference(const Eigen::MatrixXd& X) const;

  /// Mean loss (the training objective without the weight-decay term, dropout off) on (X, Y) and its gradient with
  /// respect to all parameters flattened layer by layer as [W_0 row-major, b_0, W_1, b_1, ...], by LibTorch
  /// autograd; for checks against finite differences.
  double loss(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, Eigen::VectorXd* gradient = nullptr) const;
  Eigen::VectorXd parameters() const;                ///< flattened as in loss()
  void set_parameters(const Eigen::VectorXd& theta);  ///< inverse of parameters(); InvalidArgument on length

  bool empty() const noexcept { return weights_.empty(); }
  int n_inputs() const;
  int n_outputs() const;
  /// Layer l maps a_l -> W_l a_l + b_l; W_l is (out, in) as in torch.nn.Linear. Scaled space (see above).
  const std::vector<Eigen::MatrixXd>& weights() const noexcept { return weights_; }
  const std::vector<Eigen::VectorXd>& biases() const noexcept { return biases_; }
  const Scaler& feature_scaler() const noexcept { return x_scaler_; }
  /// (n_inputs) per-column minimum / maximum of the training inputs (±inf when unknown); used by clip_inputs.
  const Eigen::RowVectorXd& input_min() const noexcept { return x_min_; }
  const Eigen::RowVectorXd& input_max() const noexcept { return x_max_; }
  const Scaler& target_scaler() const noexcept { return y_scaler_; }
  const MlpOptions& options() const noexcept { return options_; }
  const TrainHistory& history() const noexcept { return history_; }

  /// Everything needed to predict again (options, scalers, weights as float64 arrays, history).
  nlohmann::json to_json() const;
  static Mlp from_json(const nlohmann::json& j);  ///< ParseError naming the missing/mistyped field
  /// CBOR file of to_json(), written atomically.
  void save(const std::filesystem::path& path) const;
  static Mlp load(const std::filesystem::path& path);  ///< IoError / ParseError naming the file

 private:
  MlpOptions options_;
  Scaler x_scaler_, y_scaler_;
  Eigen::RowVectorXd x_min_, x_max_;
  Eigen::MatrixXd network_inputs_(const Eigen::MatrixXd& X) const;  // clamped (clip_inputs) and scaled
  std::vector<Eigen::MatrixXd> weights_;
  std::vector<Eigen::VectorXd> biases_;
  TrainHistory history_;
};

/// Whether LibTorch sees a CUDA device (false with Debian's CPU-only libtorch).
bool cuda_available();

}  // namespace tsunagu::nn
