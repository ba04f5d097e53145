// PowerTransform (Yeo-Johnson output warping). Truths: scipy.stats.yeojohnson's maximum-likelihood lambda on the same
// standardised data (scipy 1.17.1; scikit-learn 1.9.1's PowerTransformer gives the same values), the closed forms of
// the transform at lambda = 0, 1, 2, and inverse(forward(y)) = y.
#include "tsunagu/bayesopt/transform.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::bayesopt;

namespace {
// P3HT-like conductivities (S/cm), right-skewed over three decades
const Eigen::VectorXd kSkewed = (Eigen::VectorXd(10) << 2.44, 12.77, 13.19, 18.43, 55.0, 120.5, 214.21, 331.17,
                                 433.78, 1243.67).finished();
// signed (negated) losses, left-skewed
const Eigen::VectorXd kLeft = -(Eigen::VectorXd(10) << 0.131, 0.2, 0.25, 0.3, 0.32, 0.35, 0.41, 0.5, 0.7, 0.91)
                                   .finished();
}  // namespace

TEST(PowerTransform, LambdaEqualsScipyYeojohnsonMaximumLikelihood) {
  // scipy.stats.yeojohnson((y - y.mean()) / y.std()) -> lambda
  EXPECT_NEAR(PowerTransform::fit(kSkewed).lambda, -0.8689080215378262, 1e-6);
  EXPECT_NEAR(PowerTransform::fit(kLeft).lambda, 1.8582808377378806, 1e-6);
}

TEST(PowerTransform, ClosedFormsAtLambdaZeroOneTwo) {
  PowerTransform p;  // mean 0, scale 1
  p.lambda = 1;
  for (double z : {-2.0, -0.3, 0.0, 0.7, 5.0}) EXPECT_NEAR(p.forward(z), z, 1e-14);
  p.lambda = 0;
  EXPECT_NEAR(p.forward(3.0), std::log(4.0), 1e-14);           // log(1 + z) for z >= 0
  EXPECT_NEAR(p.forward(-1.0), -(std::pow(2.0, 2) - 1) / 2, 1e-14);  // -((1 - z)^2 - 1) / 2 for z < 0
  p.lambda = 2;
  EXPECT_NEAR(p.forward(-3.0), -std::log(4.0), 1e-14);  // -log(1 - z) for z < 0
  EXPECT_NEAR(p.forward(1.0), (std::pow(2.0, 2) - 1) / 2, 1e-14);
}

TEST(PowerTransform, InverseUndoesForwardAndItsDerivativeMatchesDifferences) {
  for (const auto& y : {kSkewed, kLeft}) {
    const PowerTransform p = PowerTransform::fit(y);
    for (Eigen::Index i = 0; i < y.size(); ++i) {
      const double t = p.forward(y[i]);
      EXPECT_NEAR(p.inverse(t), y[i], 1e-9 * std::max(1.0, std::abs(y[i])));
      const double h = 1e-6, fd = (p.inverse(t + h) - p.inverse(t - h)) / (2 * h);
      EXPECT_NEAR(p.inverse_derivative(t), fd, 1e-5 * std::max(1.0, std::abs(fd)));
    }
    // order is kept (the acquisition's arg-max refers to the same candidates)
    for (Eigen::Index i = 1; i < y.size(); ++i) EXPECT_EQ(p.forward(y[i]) > p.forward(y[i - 1]), y[i] > y[i - 1]);
  }
}

TEST(PowerTransform, ConstantDataIsTheIdentityAndNonFiniteIsRefused) {
  const PowerTransform p = PowerTransform::fit(Eigen::VectorXd::Constant(4, 2.5));
  EXPECT_EQ(p.lambda, 1);
  EXPECT_EQ(p.scale, 1);
  EXPECT_THROW(PowerTransform::fit((Eigen::VectorXd(2) << 1, NAN).finished()), InvalidArgument);
  EXPECT_THROW(parse_y_transform("boxcox"), InvalidArgument);
  EXPECT_EQ(parse_y_transform(y_transform_name(YTransform::Power)), YTransform::Power);
}
