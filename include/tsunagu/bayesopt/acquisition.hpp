#pragma once
/// Acquisition functions in closed form. Convention: every objective is *maximised* here (the optimiser negates
/// minimised objectives before it gets here); mu and sigma are the posterior mean and standard deviation of f at a
/// point, best the incumbent, all in the same units. z = (mu - best - xi) / sigma; phi/Phi the standard normal
/// density/distribution.
///   EI   = sigma (z Phi(z) + phi(z))                          (Jones et al. 1998)
///   logEI = log EI evaluated without underflow for z -> -inf (Ament et al., NeurIPS 2023: log h(z) via erfcx)
///   PI   = Phi(z)
///   UCB  = mu + kappa sigma
/// With sigma = 0 the limits are used (EI = max(mu - best - xi, 0), PI = [mu > best + xi], logEI = log of that).
#include <string>

namespace tsunagu::bayesopt {

enum class Acquisition {
  EI,       ///< expected improvement
  LogEI,    ///< log of EI (same maximiser, usable gradients far from the incumbent)
  PI,       ///< probability of improvement
  UCB,      ///< upper confidence bound mu + kappa sigma
  TS,       ///< Thompson sampling: maximise one posterior draw
  NoisyEI,  ///< EI averaged over joint posterior draws of the incumbent max_i f(x_i) (noisy observations)
};
Acquisition parse_acquisition(const std::string& name);  ///< ei|logei|pi|ucb|ts|nei; InvalidArgument otherwise
std::string acquisition_name(Acquisition a);

/// Value and partial derivatives of an acquisition w.r.t. mu and sigma (chain rule to x is done by the caller).
struct AcqValue {
  double value = 0;
  double d_mu = 0;
  double d_sigma = 0;
};

double expected_improvement(double mu, double sigma, double best, double xi = 0);
double log_expected_improvement(double mu, double sigma, double best, double xi = 0);
double probability_of_improvement(double mu, double sigma, double best, double xi = 0);
double upper_confidence_bound(double mu, double sigma, double kappa);

/// EI, LogEI, PI, UCB with derivatives (TS/NoisyEI are built from these by the optimiser). `param` is xi for
/// EI/LogEI/PI and kappa for UCB.
AcqValue acquisition_value(Acquisition a, double mu, double sigma, double best, double param);

/// log h(z) with h(z) = phi(z) + z Phi(z), accurate for all finite z (the core of logEI), and d/dz log h(z).
double log_h(double z);
double d_log_h(double z);

}  // namespace tsunagu::bayesopt
