#pragma once
/// A single linear model picked from a path (or an exhaustive search), its readable formula, screening of
/// untested candidates, and the model.json format shared by the CLI and Python.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "tsunagu/sparse/cv.hpp"
#include "tsunagu/sparse/exhaustive.hpp"
#include "tsunagu/sparse/penalized.hpp"

namespace tsunagu::sparse {

struct LinearModel {
  Family family = Family::Gaussian;
  std::string target;                 ///< name of y
  std::vector<std::string> features;  ///< (p) names
  double intercept = 0;               ///< original scale
  Eigen::VectorXd coef;               ///< (p) original scale
  double lambda = 0;                  ///< λ the model was taken at (0 for OLS)

  /// β0 + Xβ (gaussian) or P(y=1) (binomial); X (m, p).
  Eigen::VectorXd predict(const Eigen::MatrixXd& X) const;
  /// e.g. "yield = 12.3 + 4.5*dP - 0.81*V" (nonzero terms, `digits` significant digits);
  /// binomial: "logit P(y=1) = ...".
  std::string formula(int digits = 4) const;
};

/// The model at path index `index`.
LinearModel model_at(const Path& path, std::size_t index, const std::vector<std::string>& features,
                     const std::string& target);

/// The OLS model of one exhaustive-search subset, with the names of its features (`features` = all p names).
LinearModel subset_model(const SubsetModel& m, const std::vector<std::string>& features, const std::string& target);

/// es.json: ranked models (features, coefficients, cv_error, r2, formula) and the DOS histogram.
nlohmann::json to_json(const ExhaustiveResult& r, const std::vector<std::string>& features, const std::string& target);

/// A fitted path + optional CV, as stored in model.json.
struct SavedFit {
  Path path;
  std::optional<CvResult> cv;
  std::vector<std::string> features;
  std::string target;
  /// The model at "min", "1se" (need CV) or a numeric λ string (nearest λ on the path).
  LinearModel select(const std::string& which) const;
};

nlohmann::json to_json(const SavedFit& fit);
/// Throws ParseError naming `source` and the missing/ill-typed field.
SavedFit saved_fit_from_json(const nlohmann::json& j, const std::string& source = "<json>");

/// Screening: predictions for candidates X (m, p) and the order that ranks them (best first: largest
/// prediction when maximize, else smallest).
struct Screening {
  Eigen::VectorXd prediction;      ///< (m)
  std::vector<std::size_t> order;  ///< (m) row indices, best first
};
Screening screen(const LinearModel& model, const Eigen::MatrixXd& X, bool maximize = true);

}  // namespace tsunagu::sparse

#include "tsunagu/core/table.hpp"

namespace tsunagu::sparse {

/// Design matrix and response taken from a CSV table (shared by the CLI and Python's read_csv helpers).
struct Dataset {
  Eigen::MatrixXd X;                  ///< (n, p)
  Eigen::VectorXd y;                  ///< (n); empty when no target was requested
  std::vector<std::string> features;  ///< (p)
  std::string target;
  std::vector<std::size_t> rows;      ///< table rows used (after dropping rows with missing cells)
  std::size_t dropped = 0;            ///< rows dropped (MissingPolicy::Drop)
};

/// Select columns: `features` if non-empty, else every column except `target` and `exclude`. A non-numeric cell
/// raises ParseError naming file, line and column (and, when features were chosen automatically, a hint to use
/// --features/--exclude). `target` may be empty (prediction data).
Dataset dataset_from_table(const core::Table& table, const std::string& target,
                           const std::vector<std::string>& features, const std::vector<std::string>& exclude,
                           core::MissingPolicy missing = core::MissingPolicy::Error);

}  // namespace tsunagu::sparse
