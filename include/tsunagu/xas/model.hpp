#pragma once
/// Structure -> spectrum predictor: descriptors (tsunagu::features, or a table's precomputed columns) feed an MLP
/// (tsunagu::nn) whose outputs are the spectrum on a fixed energy mesh. Training optionally tunes the network by
/// Bayesian optimisation (tsunagu::bayesopt) on the validation loss of a grouped hold-out, then reports grouped
/// K-fold cross-validation of the chosen settings side by side with the two baselines (mean training spectrum;
/// k nearest neighbours in descriptor space). The model file (.tsx, CBOR) carries everything needed to predict:
/// the descriptor specification, the energy mesh and spectrum options, the network and the baselines' data.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "tsunagu/features/descriptors.hpp"
#include "tsunagu/nn/mlp.hpp"
#include "tsunagu/xas/data.hpp"
#include "tsunagu/xas/metrics.hpp"

namespace tsunagu::xas {

struct TrainOptions {
  /// Energy mesh of the predicted spectra; default: common_mesh of the training records.
  std::optional<Mesh> mesh;
  Normalization normalization = Normalization::None;
  std::optional<double> align_edge_to;  ///< eV; see SpectrumOptions
  /// Descriptors for structure data (ignored for tables, whose precomputed columns are used as they are).
  /// Data-dependent parts are fitted on the training records.
  features::DescriptorSpec descriptors = default_descriptors();
  nn::MlpOptions mlp = default_mlp();   ///< the network (the starting point when tuning)
  int tune_trials = 0;                  ///< Bayesian-optimisation trials (0 = no tuning); each trains one network
  int cv_folds = 5;                     ///< grouped K-fold report of the final settings (0 = none; >= 2 otherwise)
  double validation_fraction = 0.15;    ///< whole groups held out for early stopping and tuning, (0, 0.5]
  int knn_k = 5;                        ///< k of the k-NN baseline
  PeakOptions peaks;                    ///< peak matching in the reports
  std::uint64_t seed = 0;
  unsigned threads = 0;                 ///< descriptor threads (0 = all cores) and LibTorch threads (0 = LibTorch's default)
  bool progress = false;

  void validate() const;  ///< InvalidArgument naming the field

  static features::DescriptorSpec default_descriptors();  ///< acsf: weighted ACSFs of the absorbing site
  static nn::MlpOptions default_mlp();                    ///< 2 x 256 SiLU, dropout 0.2, clip_inputs, Adam 1e-3, plateau, early stopping
};

/// One tuning trial: the settings tried and the validation loss they reached.
struct TuneTrial {
  int layers = 0, width = 0;
  double learning_rate = 0, dropout = 0, weight_decay = 0;
  double validation_mse = 0;  ///< on the hold-out, spectrum units (after normalisation)
  int epochs_run = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

/// mean and sample sd over CV folds
struct FoldSpread {
  double mean = 0, sd = 0;
};

/// Grouped K-fold report: per predictor ("model", "mean", "knn") per metric the mean and sd over folds.
struct CvReport {
  int folds = 0;
  std::vector<std::string> predictors;                   ///< "model", "mean", "knn"
  std::vector<std::vector<nlohmann::json>> per_fold;     ///< [predictor][fold] Metrics::to_json() of the fold
  nlohmann::json to_json() const;                        ///< {"folds", "model": {"mse": {"mean","sd"}, ...}, ...}
  FoldSpread spread(std::size_t predictor, const std::string& metric) const;  ///< metric as in Metrics::to_json keys
};

struct Evaluation {
  Metrics model, mean, knn;
  Eigen::VectorXd mesh;
  Eigen::MatrixXd reference, predicted;  ///< (n, mesh) spectra on the mesh
  std::vector<std::string> ids;
  /// {"n", "mse", "pearson_median", ..., "baselines": {"mean": {...}, "knn": {...}}}
  nlohmann::json to_json() const;
};

class Model {
 public:
  Model() = default;

  /// Train on every record of `data` (tuning and CV inside, as configured). Records must all carry structures
  /// (descriptors computed here) or all carry features (table). InvalidArgument for fewer than 4 groups, spectra
  /// that do not cover the mesh, etc., naming the record.
  static Model train(const Dataset& data, const TrainOptions& options);

  /// Descriptor matrix (n, n_features) of records in the model's input space: descriptors for structures (the
  /// model's spec; an element outside it or a missing absorber -> InvalidArgument naming the file), or the table's
  /// features (count must match the model's, else InvalidArgument).
  Eigen::MatrixXd featurize(const std::vector<Record>& records, unsigned threads = 0) const;
  /// Spectra (n, mesh) on the model's mesh from descriptors.
  Eigen::MatrixXd predict_features(const Eigen::MatrixXd& X) const;
  /// Spectra for structures; absorbers: one site index per structure, or empty to use the first atom of the
  /// model's absorbing element (InvalidArgument when a structure has none).
  Eigen::MatrixXd predict(const std::vector<structure::Crystal>& structures,
                          const std::vector<std::size_t>& absorbers = {}) const;
  /// Predict `data` and score against its spectra, next to the two baselines.
  Evaluation evaluate(const Dataset& data) const;

  const Mesh& mesh() const noexcept { return mesh_; }
  const SpectrumOptions& spectrum_options() const noexcept { return spectrum_; }
  bool uses_structures() const noexcept { return uses_structures_; }
  const features::DescriptorSpec& descriptors() const noexcept { return spec_; }
  const std::vector<std::string>& feature_names() const noexcept { return feature_names_; }
  const std::string& absorber() const noexcept { return absorber_; }
  const nn::Mlp& network() const noexcept { return mlp_; }
  const std::vector<TuneTrial>& tuning() const noexcept { return tuning_; }
  const std::optional<CvReport>& cv() const noexcept { return cv_; }
  const KnnBaseline& knn() const noexcept { return knn_; }
  const Eigen::RowVectorXd& mean_spectrum() const noexcept { return mean_spectrum_; }
  /// Training summary: records, groups, feature count, settings chosen, history, tuning, CV.
  nlohmann::json summary() const;

  void save(const std::filesystem::path& path) const;  ///< CBOR, atomic
  /// IoError/ParseError naming the file; a file of another format or version is refused in one line.
  static Model load(const std::filesystem::path& path);

 private:
  Mesh mesh_;
  SpectrumOptions spectrum_;
  bool uses_structures_ = true;
  features::DescriptorSpec spec_;
  std::vector<std::string> feature_names_;
  std::string absorber_, edge_;
  nn::Mlp mlp_;
  KnnBaseline knn_;
  Eigen::RowVectorXd mean_spectrum_;
  std::vector<TuneTrial> tuning_;
  std::optional<CvReport> cv_;
  PeakOptions peaks_;
  nlohmann::json info_;  ///< records, groups, format, seed

  Eigen::MatrixXd predict_descriptors_(const std::vector<structure::Crystal>& structures,
                                       const std::vector<std::size_t>& sites, unsigned threads) const;
};

/// The spectra of `records` on the options' mesh (rows), in record order.
Eigen::MatrixXd spectra_on_mesh(const std::vector<Record>& records, const SpectrumOptions& options);

}  // namespace tsunagu::xas
