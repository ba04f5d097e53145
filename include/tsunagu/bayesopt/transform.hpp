#pragma once
// Output warping for the surrogate: a Yeo-Johnson power transform of standardised observations (Yeo & Johnson,
// Biometrika 87, 954 (2000)), with lambda chosen by maximum likelihood as in scikit-learn's PowerTransformer and
// HEBO (Cowen-Rivers et al., JAIR 74 (2022)). A GP on skewed or heavy-tailed objectives (conductivities, indices
// spanning decades) is dominated by the few largest values; the transform makes them closer to Gaussian while
// keeping their order, so the arg-max of an acquisition still refers to the same candidates.
#include <string>

#include <Eigen/Core>

namespace tsunagu::bayesopt {

/// Which transform the optimiser applies to each objective before fitting its GP (after the direction and an
/// objective's own `log` option).
enum class YTransform { None, Power };
YTransform parse_y_transform(const std::string& name);  ///< none|power; InvalidArgument otherwise
std::string y_transform_name(YTransform t);

struct PowerTransform {
  double mean = 0, scale = 1;  ///< standardisation z = (y - mean) / scale applied first (scale > 0)
  double lambda = 1;           ///< Yeo-Johnson exponent; 1 = identity on z

  /// Maximum-likelihood lambda in [-3, 3] for the standardised y (n >= 1, finite; constant y gives lambda = 1).
  /// InvalidArgument on non-finite values.
  static PowerTransform fit(const Eigen::VectorXd& y);

  double forward(double y) const;  ///< psi_lambda((y - mean) / scale)
  /// Inverse of forward; values outside the image of forward are clamped to its boundary (possible only for
  /// lambda outside [0, 2]).
  double inverse(double t) const;
  double inverse_derivative(double t) const;  ///< d inverse / dt (for delta-method standard deviations)
  /// Profile log-likelihood of lambda for standardised data z (up to a constant), the quantity fit() maximises.
  static double log_likelihood(const Eigen::VectorXd& z, double lambda);
};

}  // namespace tsunagu::bayesopt
