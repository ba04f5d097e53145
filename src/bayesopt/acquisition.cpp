// Closed-form acquisition functions and the tail-stable log h(z) of log-EI.
#include "tsunagu/bayesopt/acquisition.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tsunagu/core/error.hpp"

namespace tsunagu::bayesopt {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log sqrt(2 pi)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kInf = std::numeric_limits<double>::infinity();

double phi(double z) { return kInvSqrt2Pi * std::exp(-0.5 * z * z); }
double Phi(double z) { return 0.5 * std::erfc(-z * kInvSqrt2); }

// Below this z the continued fraction is used; above it phi + z Phi loses at most one digit to cancellation.
constexpr double kTail = -3.0;

// c(x) = 1/(x + 2/(x + 3/(x + ...))) for x > 0 by the modified Lentz algorithm. With the Mills ratio
// R(x) = (1 - Phi(x))/phi(x) = 1/(x + c(x)) (Laplace's continued fraction) one gets for z = -x < 0:
//   Phi(z) = phi(z) R(x),   h(z) = phi(z) (1 - x R(x)) = phi(z) c(x) R(x),   Phi(z)/h(z) = 1/c(x),
// all products and quotients of positive numbers, so no cancellation however far in the tail. Converges in
// < 60 terms for x >= 3 (fewer for larger x).
double mills_tail(double x) {
  constexpr double tiny = 1e-300;
  double f = tiny, C = f, D = 0.0;
  for (int k = 1; k < 1000; ++k) {
    const double a = k == 1 ? 1.0 : static_cast<double>(k);
    D = x + a * D;
    if (D == 0) D = tiny;
    C = x + a / C;
    if (C == 0) C = tiny;
    D = 1.0 / D;
    const double delta = C * D;
    f *= delta;
    if (std::abs(delta - 1.0) < 1e-16) break;
  }
  return f;
}

// log h(z) and d/dz log h(z) from one evaluation of the continued fraction (both are needed for log-EI).
void log_h_both(double z, double& lh, double& dlh) {
  if (std::isnan(z) || z == kInf || z == -kInf || z >= kTail) {
    lh = log_h(z);
    dlh = d_log_h(z);
    return;
  }
  const double x = -z, c = mills_tail(x);
  lh = -0.5 * z * z - kLogSqrt2Pi + std::log(c) - std::log(x + c);
  dlh = 1.0 / c;
}

}  // namespace

Acquisition parse_acquisition(const std::string& name) {
  if (name == "ei") return Acquisition::EI;
  if (name == "logei") return Acquisition::LogEI;
  if (name == "pi") return Acquisition::PI;
  if (name == "ucb") return Acquisition::UCB;
  if (name == "ts") return Acquisition::TS;
  if (name == "nei") return Acquisition::NoisyEI;
  throw InvalidArgument("acquisition: unknown '" + name + "' (ei, logei, pi, ucb, ts, nei)");
}

std::string acquisition_name(Acquisition a) {
  switch (a) {
    case Acquisition::EI:
      return "ei";
    case Acquisition::LogEI:
      return "logei";
    case Acquisition::PI:
      return "pi";
    case Acquisition::UCB:
      return "ucb";
    case Acquisition::TS:
      return "ts";
    case Acquisition::NoisyEI:
      return "nei";
  }
  return "?";
}

double log_h(double z) {
  if (std::isnan(z)) return z;
  if (z == kInf) return kInf;
  if (z == -kInf) return -kInf;
  if (z >= kTail) return std::log(phi(z) + z * Phi(z));
  const double x = -z;
  const double c = mills_tail(x);
  // log phi(z) + log c + log R, R = 1/(x + c)
  return -0.5 * z * z - kLogSqrt2Pi + std::log(c) - std::log(x + c);
}

double d_log_h(double z) {
  if (std::isnan(z)) return z;
  if (z == kInf) return 0.0;                              // h(z) ~ z: d log h = 1/z -> 0
  if (z == -kInf) return kInf;                            // d log h ~ -z
  if (z >= kTail) return Phi(z) / (phi(z) + z * Phi(z));  // h'(z) = Phi(z)
  return 1.0 / mills_tail(-z);
}

double expected_improvement(double mu, double sigma, double best, double xi) {
  return acquisition_value(Acquisition::EI, mu, sigma, best, xi).value;
}
double log_expected_improvement(double mu, double sigma, double best, double xi) {
  return acquisition_value(Acquisition::LogEI, mu, sigma, best, xi).value;
}
double probability_of_improvement(double mu, double sigma, double best, double xi) {
  return acquisition_value(Acquisition::PI, mu, sigma, best, xi).value;
}
double upper_confidence_bound(double mu, double sigma, double kappa) {
  return acquisition_value(Acquisition::UCB, mu, sigma, 0.0, kappa).value;
}

AcqValue acquisition_value(Acquisition a, double mu, double sigma, double best, double param) {
  if (std::isnan(mu) || std::isnan(sigma) || std::isnan(best) || std::isnan(param))
    throw InvalidArgument("acquisition: NaN input (mu, sigma, best and xi/kappa must be numbers)");
  if (sigma < 0) throw InvalidArgument("acquisition: sigma must be >= 0 (got " + std::to_string(sigma) + ")");
  AcqValue r;
  if (a == Acquisition::UCB) {
    r.value = mu + param * sigma;
    r.d_mu = 1.0;
    r.d_sigma = param;
    return r;
  }
  if (a == Acquisition::TS || a == Acquisition::NoisyEI)
    throw InvalidArgument("acquisition: " + acquisition_name(a) +
                          " has no closed form at one point (it is built from posterior draws by the optimiser)");
  const double imp = mu - best - param;  // improvement of the mean over the target
  if (sigma == 0) {
    // Deterministic limits. d/dsigma at sigma -> 0+: EI -> phi(z) (phi(0) at imp = 0, else 0); PI, logEI likewise
    // take their one-sided limits.
    switch (a) {
      case Acquisition::EI:
        r.value = std::max(imp, 0.0);
        r.d_mu = imp > 0 ? 1.0 : (imp == 0 ? 0.5 : 0.0);
        r.d_sigma = imp == 0 ? kInvSqrt2Pi : 0.0;
        break;
      case Acquisition::LogEI:
        r.value = imp > 0 ? std::log(imp) : -kInf;
        r.d_mu = imp > 0 ? 1.0 / imp : 0.0;
        r.d_sigma = 0.0;
        break;
      default:  // PI
        r.value = imp > 0 ? 1.0 : 0.0;
        break;
    }
    return r;
  }
  const double z = imp / sigma;
  switch (a) {
    case Acquisition::EI: {
      // EI = sigma h(z); dEI/dmu = Phi(z), dEI/dsigma = phi(z) (the z-terms cancel)
      r.value = z < kTail ? sigma * std::exp(log_h(z)) : sigma * (phi(z) + z * Phi(z));
      r.d_mu = Phi(z);
      r.d_sigma = phi(z);
      break;
    }
    case Acquisition::LogEI: {
      // log EI = log sigma + log h(z); dz/dmu = 1/sigma, dz/dsigma = -z/sigma
      double lh = 0, g = 0;
      log_h_both(z, lh, g);
      r.value = std::log(sigma) + lh;
      r.d_mu = g / sigma;
      r.d_sigma = (1.0 - z * g) / sigma;
      break;
    }
    default: {  // PI = Phi(z)
      const double p = phi(z);
      r.value = Phi(z);
      r.d_mu = p / sigma;
      r.d_sigma = -z * p / sigma;
      break;
    }
  }
  return r;
}

}  // namespace tsunagu::bayesopt
