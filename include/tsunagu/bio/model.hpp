#pragma once
/// Small-data property models for bio-interfaces: an ensemble of MLPs (tsunagu::nn) over seeds, judged by repeated
/// K-fold cross-validation next to a sparse linear model (tsunagu::sparse lasso) and k-nearest neighbours, with the
/// importance of every input by Garson, Olden and permutation on held-out folds, averaged over the ensemble with
/// confidence intervals. See docs/bio.md.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "tsunagu/bio/descriptors.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/nn/mlp.hpp"

namespace tsunagu::bio {

/// A regression data set: one row per sample (molecule, coating, ...).
struct Dataset {
  Eigen::MatrixXd X;                       ///< (n, p) inputs, finite
  Eigen::VectorXd y;                       ///< (n) target, finite
  std::vector<std::string> features;       ///< (p) column names
  std::string target;                      ///< name of y
  std::vector<std::string> ids;            ///< (n) row labels (the id column, else "row N", 1-based data rows)
  /// What was left out, and why: rows with an empty or non-finite target, constant input columns.
  struct Exclusion {
    std::string what;    ///< "row 7" or "column logp"
    std::string reason;  ///< "empty target", "constant (all 0)", ...
  };
  std::vector<Exclusion> excluded;
  /// Groups of rows with identical inputs (duplicate molecules): reported, kept; their targets may differ.
  std::vector<std::vector<std::size_t>> duplicates;
  /// Set when the inputs were computed from SMILES (dataset_from_smiles): the model keeps them so that predict()
  /// can describe new molecules the same way.
  std::optional<DescriptorOptions> descriptors;
  std::string smiles_column;
  nlohmann::json report_json() const;  ///< {"n", "p", "excluded": [{what, reason}], "duplicates": [[ids]]}
};

/// Inputs = every numeric column of `table` except `target` and `exclude`; `id_column` (if present) names the rows.
/// Rows with an empty/non-numeric/non-finite target are excluded (reported); text columns (no cell is a number:
/// names, SMILES) and input columns constant over the kept rows are left out (reported). A non-numeric cell in an
/// otherwise numeric column is a ParseError naming the file, line and column; an unknown target/exclude column,
/// fewer than 4 usable rows or no usable column is InvalidArgument.
Dataset dataset_from_table(const core::Table& table, const std::string& target,
                           const std::vector<std::string>& exclude = {}, const std::string& id_column = "id");

/// From a CSV with a SMILES column: descriptor_table (RDKit descriptors next to the user columns, unparseable SMILES
/// an error naming the row) then dataset_from_table on the result; `descriptors`/`smiles_column` are set.
Dataset dataset_from_smiles(const core::Table& table, const std::string& smiles_column, const std::string& target,
                            const DescriptorOptions& descriptors, const std::vector<std::string>& exclude = {},
                            const std::string& id_column = "id");

struct TrainOptions {
  nn::MlpOptions mlp = default_mlp();  ///< every member's network (its seed is replaced per member)
  int ensemble = 10;                   ///< members (seeds seed, seed+1, ...), >= 1
  int folds = 5;                       ///< K of the repeated K-fold CV, 2..n (0 = no CV report)
  int repeats = 3;                     ///< CV repeats with fresh fold assignments, >= 1
  int knn_k = 5;                       ///< k of the kNN baseline
  int permutation_repeats = 10;        ///< permutations per input and held-out fold
  std::uint64_t seed = 0;
  unsigned threads = 0;                ///< members trained in parallel (0 = all cores); each network 1 LibTorch thread
  bool progress = false;               ///< progress line on stderr

  void validate() const;  ///< InvalidArgument naming the field
  nlohmann::json to_json() const;
  static TrainOptions from_json(const nlohmann::json& j);  ///< unknown keys refused
  /// one hidden layer of 16 tanh units, weight decay 1e-3, Adam 3e-3, batch 16, up to 2000 epochs with early
  /// stopping (patience 200) on a 20 % hold-out, standardised inputs/target, inputs clipped to the training range
  static nn::MlpOptions default_mlp();
};

/// mean and sample SD of a metric over the CV folds (all repeats)
struct Spread {
  double mean = 0, sd = 0;
};

/// Cross-validated scores of one predictor.
struct CvScores {
  std::vector<double> r2, rmse;  ///< (folds * repeats) per held-out fold: 1 - SS_res/SS_tot (fold mean), RMSE
  /// (repeats) Q² = 1 - SS_res/SS_tot over all out-of-fold predictions of a repeat (about the overall mean): the
  /// stable small-data score when folds hold 3-4 rows and a per-fold R² swings wildly
  std::vector<double> q2;
  Spread r2_spread() const;
  Spread rmse_spread() const;
  nlohmann::json to_json() const;  ///< {"cv_r2", "cv_rmse", "cv_q2": {mean, sd}, "folds_r2": [...], ...}
};

/// Importance of each input by one method, over the ensemble members: mean and a percentile interval.
struct Importance {
  std::string method;                  ///< "garson", "olden", "permutation"
  std::vector<std::string> features;   ///< (p)
  Eigen::VectorXd mean, ci_low, ci_high;  ///< (p)
  Eigen::MatrixXd members;             ///< (ensemble, p) per-member values
  nlohmann::json to_json() const;      ///< [{"feature", "mean", "ci_low", "ci_high"}] in input order
};

/// Ensemble prediction: mean over members and their SD (the spread of the ensemble, not a calibrated error bar).
struct Prediction {
  Eigen::VectorXd mean, sd;  ///< (m)
};

class Model {
 public:
  /// Repeated K-fold CV of the ensemble and both baselines (every fold: members and baselines fitted on the
  /// training rows only), permutation importance on each held-out fold, then the final ensemble on all rows with
  /// its Garson and Olden importances.
  static Model train(const Dataset& data, const TrainOptions& options = {});

  /// (m) mean and SD over members for inputs X (m, p) in the training columns' order and units.
  Prediction predict(const Eigen::MatrixXd& X) const;
  /// Columns of `table` by name (extra columns ignored; a missing one is InvalidArgument naming it). A model trained
  /// from SMILES describes the table's SMILES column first (same descriptor options), so a CSV of candidate SMILES
  /// (plus any user columns the model uses) is enough.
  Prediction predict(const core::Table& table) const;
  /// The descriptor options and SMILES column of a model trained from SMILES.
  const std::optional<DescriptorOptions>& descriptor_options() const noexcept { return descriptors_; }

  const std::vector<std::string>& features() const noexcept { return features_; }
  const std::string& target() const noexcept { return target_; }
  const std::vector<nn::Mlp>& members() const noexcept { return members_; }
  const TrainOptions& options() const noexcept { return options_; }
  const CvScores& cv(const std::string& predictor) const;  ///< "model", "sparse", "knn"
  const std::vector<Importance>& importances() const noexcept { return importances_; }
  /// Spearman agreement of |importance| between the methods: {"garson_olden", "garson_permutation", ...}
  nlohmann::json agreement() const;

  /// report.json: n, features, target, options, cv_r2/cv_rmse of the ensemble, "baselines": {"sparse", "knn"}
  /// with the same keys, the data report (exclusions, duplicates) and the importance agreement.
  nlohmann::json report() const;
  /// importance.json: {"garson": [...], "olden": [...], "permutation": [...], "agreement": {...}}
  nlohmann::json importance_json() const;

  /// CBOR "tsunagu.bio.model/1" (atomic write); load refuses other files in one line naming the file.
  void save(const std::filesystem::path& path) const;
  static Model load(const std::filesystem::path& path);

 private:
  TrainOptions options_;
  std::vector<std::string> features_;
  std::string target_;
  std::vector<nn::Mlp> members_;
  std::vector<std::string> predictors_;  ///< "model", "sparse", "knn"
  std::vector<CvScores> cv_;
  std::vector<Importance> importances_;
  nlohmann::json data_report_;
  std::optional<DescriptorOptions> descriptors_;
  std::string smiles_column_;
};

/// SVG bar chart of the importances (one panel per method, inputs in the order of the first method's mean, error
/// bars = the interval); written atomically.
void plot_importance(const std::vector<Importance>& importances, const std::filesystem::path& path,
                     const std::string& title = "");

}  // namespace tsunagu::bio
