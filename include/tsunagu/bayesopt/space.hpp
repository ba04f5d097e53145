#pragma once
/// Search spaces for Bayesian optimisation.
///
/// A point is an Eigen::VectorXd in *natural units*, one entry per parameter in declaration order: the value of a
/// continuous or integer parameter in its own unit, the 0-based index into `choices` for a categorical one, and the
/// value (or choice index 0) for a fixed one. A set of points is a MatrixXd of shape (n_points, n_parameters).
///
/// The surrogate works in an *encoded* space [0,1]^dim: continuous and integer parameters map linearly (or
/// logarithmically when log_scale) onto [0,1]; a categorical parameter with k choices becomes k one-hot columns;
/// fixed parameters are left out (they carry no information). decode() inverts this, rounding integers and taking the
/// arg-max of one-hot blocks, so every decoded point is a valid point of the space.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/core/random.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::bayesopt {

enum class ParamKind { Continuous, Integer, Categorical, Fixed };

struct Parameter {
  std::string name;                  ///< unique, non-empty; also the CSV column name
  ParamKind kind = ParamKind::Continuous;
  double lower = 0, upper = 1;       ///< bounds in natural units (continuous, integer); lower < upper
  bool log_scale = false;            ///< encode log(x); needs lower > 0 (continuous, integer)
  std::vector<std::string> choices;  ///< categorical: >= 2 distinct labels
  double value = 0;                  ///< fixed: numeric value (when `label` is empty)
  std::string label;                 ///< fixed: a text value instead of a number (written as is)
  std::string unit;                  ///< free text for tables and plots, e.g. "Pa", "W", "degC"
  void validate() const;             ///< throws InvalidArgument naming the parameter and field
};

/// sum_i coefficient_i * x_i <= upper, with x in natural units (categorical/fixed parameters may not appear).
struct LinearConstraint {
  std::vector<std::pair<std::string, double>> terms;  ///< (parameter name, coefficient)
  double upper = 0;
  std::string text() const;  ///< "1*power + 10*o2 <= 300", for messages
};

enum class Direction { Minimize, Maximize };

struct Objective {
  std::string name;  ///< CSV column name of the measured value
  Direction direction = Direction::Minimize;
  std::string unit;
  /// Model log(y) instead of y (y must be > 0). For quantities that span decades (resistivity, lifetimes) a GP on
  /// the raw values is dominated by the largest ones and cannot resolve the region of the optimum.
  bool log_scale = false;
};

class Space {
 public:
  std::vector<Parameter> parameters;
  std::vector<LinearConstraint> constraints;
  std::vector<Objective> objectives;  ///< >= 1 for suggest; several = multi-objective

  /// Checks parameters (unique names), constraints (known numeric parameters, finite coefficients) and objectives
  /// (unique, not a parameter name). Throws InvalidArgument.
  void validate() const;

  std::size_t n_parameters() const noexcept { return parameters.size(); }
  std::size_t dim() const;  ///< encoded dimension
  std::size_t parameter_index(std::string_view name) const;  ///< throws InvalidArgument listing the names

  /// (n, n_parameters) natural -> (n, dim) encoded. Values outside the bounds encode outside [0,1] (observations
  /// made outside the box are still data); an out-of-range categorical index throws InvalidArgument.
  Eigen::MatrixXd encode(const Eigen::MatrixXd& points) const;
  /// (n, dim) encoded -> (n, n_parameters) natural: clamps to [0,1], rounds integers, arg-max of one-hot blocks.
  Eigen::MatrixXd decode(const Eigen::MatrixXd& encoded) const;

  /// Inside the bounds (with a relative tolerance of 1e-9), integers integral, categories valid, and all linear
  /// constraints satisfied.
  bool feasible(const Eigen::VectorXd& point) const;
  /// n points uniform in the (log-)box, rejecting infeasible ones. Throws InvalidArgument when fewer than 1 in
  /// 10^4 draws is feasible (the constraints leave (almost) no room). Returns (n, n_parameters).
  Eigen::MatrixXd sample(std::size_t n, core::Rng& rng) const;

  /// Parse the parameter columns of a table (by name; other columns are ignored) into (n_rows, n_parameters).
  /// Categorical cells are matched against `choices`; a fixed parameter's column may be absent. Errors name the
  /// file, line and column.
  Eigen::MatrixXd points_from_table(const core::Table& table) const;
  /// Text cells of one point, one per parameter (integers without decimals, categories by label).
  std::vector<std::string> format_point(const Eigen::VectorXd& point) const;
  std::vector<std::string> parameter_names() const;
  std::vector<std::string> objective_names() const;

  /// A space whose parameters are the given numeric columns of a candidate table (continuous, bounds = column
  /// min/max; a constant column becomes fixed). Used by pool-based optimisation.
  static Space from_columns(const Eigen::MatrixXd& values, const std::vector<std::string>& names);
};

/// Parse a space from TOML text:
///
///     [[parameter]]                 # one table per parameter, in order
///     name = "o2_pressure"
///     type = "continuous"           # continuous | integer | categorical | fixed
///     low = 0.1                     # continuous/integer
///     high = 2.0
///     log = true                    # optional
///     unit = "Pa"                   # optional
///     # categorical: choices = ["Ti", "Nb"]; fixed: value = 300 (number or string)
///
///     [[constraint]]
///     coefficients = { power = 1.0, temperature = 0.5 }
///     upper = 400.0
///
///     [[objective]]
///     name = "resistivity"
///     direction = "minimize"        # minimize | maximize
///     unit = "ohm cm"
///
/// Unknown keys anywhere are rejected (ParseError naming `source` and the key) except top-level tables listed in
/// `other_tables`, which the caller parses (the campaign spec adds [campaign], [stop], [retry], [optimizer]).
Space parse_space_toml(std::string_view text, const std::string& source = "<string>",
                       const std::vector<std::string>& other_tables = {});
Space read_space_toml(const std::filesystem::path& path, const std::vector<std::string>& other_tables = {});

}  // namespace tsunagu::bayesopt
