// Bayesian optimisation loop: surrogate fitting, acquisition maximisation, batches, pending points, unknown
// constraints and multi-objective EHVI. Everything here works in the encoded unit box of the Space and in the
// maximisation convention (minimised objectives are negated on the way in and back on the way out; an objective
// with log_scale is modelled as log y).
//
// Conventions of the results (beyond optimizer.hpp):
// * The GPs are fitted with options.gp except normalize_x = false (the encoding already is the unit box),
//   threads = options.threads when options.gp.threads is 0, and seed = options.seed + objective index.
// * Suggestion::acquisition is the value that was maximised at the chosen point: EI, PI, NEI (natural scale) or
//   log EI times P(success) and the local penalisers when those apply; UCB alone, or (UCB - floor) x P(success)
//   x penalisers with the floor just below the smallest UCB of the candidates; TS the posterior draw (model
//   units, maximisation convention); EHVI in model units (log units for log_scale objectives).
// * mean/sd come from the GPs fitted on the observations (no fantasies); for a log_scale objective they are the
//   log-normal mean and sd of y.
#include "tsunagu/bayesopt/optimizer.hpp"

#include <LBFGSB.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/core/thread_pool.hpp"

namespace tsunagu::bayesopt {

BatchMethod parse_batch_method(const std::string& name) {
  if (name == "kb") return BatchMethod::KrigingBeliever;
  if (name == "lp") return BatchMethod::LocalPenalization;
  if (name == "ts") return BatchMethod::Thompson;
  throw InvalidArgument("batch method: unknown '" + name + "' (kb, lp, ts)");
}

Spread parse_spread(const std::string& name) {
  if (name == "auto") return Spread::Auto;
  if (name == "latent") return Spread::Latent;
  if (name == "measurement") return Spread::Measurement;
  throw InvalidArgument("spread: unknown '" + name + "' (auto, latent, measurement)");
}

std::string spread_name(Spread s) {
  switch (s) {
    case Spread::Auto:
      return "auto";
    case Spread::Latent:
      return "latent";
    case Spread::Measurement:
      return "measurement";
  }
  return "?";
}

InputWarp parse_input_warp(const std::string& name) {
  if (name == "none") return InputWarp::None;
  if (name == "rank") return InputWarp::Rank;
  if (name == "auto") return InputWarp::Auto;
  if (name == "learned") return InputWarp::Learned;
  if (name == "rank+learned") return InputWarp::RankLearned;
  throw InvalidArgument("input warp: unknown '" + name + "' (none, rank, auto, learned, rank+learned)");
}

std::string input_warp_name(InputWarp w) {
  switch (w) {
    case InputWarp::None:
      return "none";
    case InputWarp::Rank:
      return "rank";
    case InputWarp::Auto:
      return "auto";
    case InputWarp::Learned:
      return "learned";
    case InputWarp::RankLearned:
      return "rank+learned";
  }
  return "?";
}

bool needs_pool(InputWarp w) {
  return w == InputWarp::Rank || w == InputWarp::Auto || w == InputWarp::RankLearned;
}

bool learns_warp(InputWarp w) { return w == InputWarp::Learned || w == InputWarp::RankLearned; }

Eigen::MatrixXd rank_columns(const Eigen::MatrixXd& E) {
  const Eigen::Index m = E.rows();
  Eigen::MatrixXd R(m, E.cols());
  std::vector<Eigen::Index> idx(static_cast<std::size_t>(m));
  for (Eigen::Index j = 0; j < E.cols(); ++j) {
    std::iota(idx.begin(), idx.end(), Eigen::Index{0});
    std::stable_sort(idx.begin(), idx.end(), [&](Eigen::Index a, Eigen::Index b) { return E(a, j) < E(b, j); });
    // mid-rank of each run of equal values, so that equal inputs stay equal
    for (Eigen::Index a = 0; a < m;) {
      Eigen::Index b = a;
      while (b + 1 < m && E(idx[static_cast<std::size_t>(b + 1)], j) == E(idx[static_cast<std::size_t>(a)], j)) ++b;
      const double mid = 0.5 * static_cast<double>(a + b);
      for (Eigen::Index c = a; c <= b; ++c) R(idx[static_cast<std::size_t>(c)], j) = mid;
      a = b + 1;
    }
    const double lo = m ? R.col(j).minCoeff() : 0.0, hi = m ? R.col(j).maxCoeff() : 0.0;
    if (hi > lo)
      R.col(j) = (R.col(j).array() - lo) / (hi - lo);
    else
      R.col(j).setZero();
  }
  return R;
}

std::string batch_method_name(BatchMethod m) {
  switch (m) {
    case BatchMethod::KrigingBeliever:
      return "kb";
    case BatchMethod::LocalPenalization:
      return "lp";
    case BatchMethod::Thompson:
      return "ts";
  }
  return "?";
}

void OptimizerOptions::validate() const {
  auto bad = [](const std::string& field, const std::string& what, double v) {
    throw InvalidArgument("optimizer." + field + ": must be " + what + " (got " + std::to_string(v) + ")");
  };
  if (!std::isfinite(xi) || xi < 0) bad("xi", ">= 0 and finite", xi);
  if (!std::isfinite(kappa) || kappa < 0) bad("kappa", ">= 0 and finite", kappa);
  if (candidates < 1) bad("candidates", ">= 1", candidates);
  if (starts < 0) bad("starts", ">= 0", starts);
  if (rff_features < 1) bad("rff_features", ">= 1", rff_features);
  if (nei_samples < 1) bad("nei_samples", ">= 1", nei_samples);
  if (mc_samples < 1) bad("mc_samples", ">= 1", mc_samples);
  for (double r : reference_point)
    if (!std::isfinite(r)) bad("reference_point", "finite", r);
  gp.validate();
}

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLogSqrt2Pi = 0.91893853320467274178;
constexpr double kTiny = 1e-300;
// Exact joint posterior draws up to this many points (O(m^3) Cholesky); random Fourier features beyond.
constexpr Index kExactThompson = 2000;
// Rows per gp.predict call: bounds the temporaries of a 10^6-row pool.
constexpr Index kChunk = 65536;
// Pools from this many rows are searched by bound-and-evaluate (Engine::maximise_pool_pruned) instead of computing
// every row's posterior variance.
constexpr Index kPrunePool = 20000;

// Standard normal by Box-Muller on core::uniform01: std::normal_distribution differs between standard libraries.
double normal(core::Rng& rng) {
  double u1 = core::uniform01(rng);
  while (u1 <= 0) u1 = core::uniform01(rng);
  const double u2 = core::uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586477 * u2);
}

// log Phi(z) and d/dz log Phi(z) = phi/Phi, tail-stable through log h (Phi/h = d log h, h' = Phi).
double log_Phi(double z) {
  if (z > 0) return std::log1p(-0.5 * std::erfc(z * 0.70710678118654752440));
  return log_h(z) + std::log(d_log_h(z));
}
double d_log_Phi(double z) {
  if (z > -3) return std::exp(-0.5 * z * z - kLogSqrt2Pi) / (0.5 * std::erfc(-z * 0.70710678118654752440));
  // z = -x: phi/Phi = 1/R(x) = x + c(x), and d log h(z) = Phi/h = 1/c(x)
  return -z + 1.0 / d_log_h(z);
}

struct Posterior {
  VectorXd mu, sd;  // model's original units (maximisation convention)
};

// measurement: the sd of y = f + noise instead of f (Spread::Measurement).
Posterior posterior(const GaussianProcess& gp, const MatrixXd& E, bool measurement = false) {
  Posterior p;
  p.mu.resize(E.rows());
  p.sd.resize(E.rows());
  for (Index b = 0; b < E.rows(); b += kChunk) {
    const Index len = std::min(kChunk, E.rows() - b);
    const auto pr = gp.predict(E.middleRows(b, len), measurement);
    p.mu.segment(b, len) = pr.mean;
    p.sd.segment(b, len) = pr.variance.cwiseMax(0.0).cwiseSqrt();
  }
  return p;
}

struct Penalty {
  VectorXd x;  // encoded batch member
  double mu = 0, sigma = 0;
};

// The quantity maximised for a closed-form acquisition: log of a positive acquisition (EI, logEI, PI, NEI, and UCB
// once it has to be multiplied by a feasibility probability or penalisers), plus log feasibility, plus the log
// local penalisers; UCB alone is used as it is.
struct Scorer {
  Acquisition acq = Acquisition::LogEI;
  const GaussianProcess* gp = nullptr;
  double best = 0, xi = 0, kappa = 0;
  std::vector<double> nei_best;
  const GpClassifier* feas = nullptr;
  std::vector<Penalty> pen;
  double L = 0, M = 0;
  bool shift_ucb = false;
  bool measurement = false;  // score the spread of a new measurement (Spread::Measurement)
  double noise_var = 0;      // fitted noise variance, y units (added to the variance when measurement)
  double floor = 0, scale = 1;  // UCB floor (shift) and y scale (objective scaling for L-BFGS)

  bool log_domain() const { return acq != Acquisition::UCB || shift_ucb; }

  // Base acquisition (score units) and its partial derivatives.
  double base(double mu, double sigma, double& dmu, double& dsig) const {
    dmu = dsig = 0;
    switch (acq) {
      case Acquisition::EI:
      case Acquisition::LogEI: {
        const auto v = acquisition_value(Acquisition::LogEI, mu, sigma, best, xi);
        dmu = v.d_mu;
        dsig = v.d_sigma;
        return v.value;
      }
      case Acquisition::PI: {
        const double imp = mu - best - xi;
        if (!(sigma > 0)) return imp > 0 ? 0.0 : -kInf;
        const double z = imp / sigma;
        const double r = d_log_Phi(z);
        dmu = r / sigma;
        dsig = -r * z / sigma;
        return log_Phi(z);
      }
      case Acquisition::NoisyEI: {
        // log of the mean of EI over incumbent draws: a one-pass (streaming) log-sum-exp of the log-EIs, the gradient
        // weighted by the softmax, without allocating per point
        double mx = -kInf, sum = 0, sdm = 0, sds = 0;
        for (double b : nei_best) {
          const auto v = acquisition_value(Acquisition::LogEI, mu, sigma, b, xi);
          if (v.value == -kInf) continue;
          if (v.value > mx) {
            const double r = std::exp(mx - v.value);  // rescale what was summed so far to the new maximum
            sum *= r;
            sdm *= r;
            sds *= r;
            mx = v.value;
          }
          const double w = std::exp(v.value - mx);
          sum += w;
          sdm += w * v.d_mu;
          sds += w * v.d_sigma;
        }
        if (!(sum > 0)) return -kInf;
        dmu = sdm / sum;
        dsig = sds / sum;
        return mx + std::log(sum) - std::log(static_cast<double>(nei_best.size()));
      }
      case Acquisition::UCB: {
        const double u = mu + kappa * sigma;
        if (!shift_ucb) {
          dmu = 1;
          dsig = kappa;
          return u;
        }
        const double t = u - floor;
        if (!(t > kTiny)) return std::log(kTiny);
        dmu = 1 / t;
        dsig = kappa / t;
        return std::log(t);
      }
      case Acquisition::TS:
        break;
    }
    return -kInf;
  }

  double penalty(const VectorXd& x, VectorXd* grad) const {
    double s = 0;
    for (const auto& p : pen) {
      const VectorXd d = x - p.x;
      const double r = d.norm();
      const double z = (p.mu + L * r - M) / p.sigma;
      s += log_Phi(z);
      if (grad && r > 0) *grad += d_log_Phi(z) * L / (p.sigma * r) * d;
    }
    return s;
  }

  // Scores of many points (rows of E) from their posterior, with log feasibility logp (empty when none).
  VectorXd scores(const MatrixXd& E, const Posterior& post, const VectorXd& logp, unsigned threads) const {
    VectorXd out(E.rows());
    core::parallel_for(static_cast<std::size_t>(E.rows()), threads, [&](std::size_t b, std::size_t e, unsigned) {
      double dm, ds;
      for (auto i = static_cast<Index>(b); i < static_cast<Index>(e); ++i) {
        double s = base(post.mu(i), post.sd(i), dm, ds);
        if (logp.size()) s += logp(i);
        if (!pen.empty()) s += penalty(E.row(i).transpose(), nullptr);
        out(i) = s;
      }
    });
    return out;
  }

  // Score and gradient d/dx at one encoded point.
  double score_grad(const VectorXd& x, VectorXd& g) const {
    double m = 0, v = 0;
    VectorXd dm, dv;
    gp->predict_with_gradient(x, m, v, dm, dv);
    if (measurement) v = std::max(v, 0.0) + noise_var;
    const double sigma = std::sqrt(std::max(v, 0.0));
    double a = 0, b = 0;
    double s = base(m, sigma, a, b);
    g = a * dm;
    if (sigma > 0) g += b / (2 * sigma) * dv;
    if (feas) {
      // The classifier has no analytic input gradient: forward differences, all points in one call.
      const Index d = x.size();
      constexpr double h = 1e-6;
      MatrixXd P(d + 1, d);
      P.row(0) = x.transpose();
      for (Index j = 0; j < d; ++j) {
        P.row(j + 1) = x.transpose();
        P(j + 1, j) += h;
      }
      const VectorXd lp = feas->probability(P).array().max(kTiny).log();
      s += lp(0);
      for (Index j = 0; j < d; ++j) g(j) += (lp(j + 1) - lp(0)) / h;
    }
    if (!pen.empty()) s += penalty(x, &g);
    return s;
  }
};

VectorXd log_feasibility(const GpClassifier* feas, const MatrixXd& E) {
  if (!feas) return {};
  VectorXd lp(E.rows());
  for (Index b = 0; b < E.rows(); b += kChunk) {
    const Index len = std::min(kChunk, E.rows() - b);
    lp.segment(b, len) = feas->probability(E.middleRows(b, len)).array().max(kTiny).log().matrix();
  }
  return lp;
}

// Indices of the non-NaN entries of v, best first (ties by index, for determinism).
std::vector<Index> ranked(const VectorXd& v) {
  std::vector<Index> idx;
  for (Index i = 0; i < v.size(); ++i)
    if (!std::isnan(v(i))) idx.push_back(i);  // -inf (e.g. log EI of a noise-free observed point) ranks last
  std::stable_sort(idx.begin(), idx.end(), [&v](Index a, Index b) { return v(a) > v(b); });
  return idx;
}

// Arg-max of v over the entries not NaN and not taken(i), ties to the lower index (as a stable ranking would);
// -1 when none. A linear scan: a 10^6-row pool needs no full sort to find its best untaken row.
template <typename Taken>
Index best_untaken(const VectorXd& v, const Taken& taken) {
  Index arg = -1;
  for (Index i = 0; i < v.size(); ++i) {
    if (std::isnan(v(i)) || (arg >= 0 && !(v(i) > v(arg))) || taken(i)) continue;
    arg = i;
  }
  return arg;
}

// Hypervolume improvement of y over the front F (rows; maximisation) above reference r: the box [r, y] minus the
// part of it the front already dominates, which is the hypervolume of the componentwise minima min(y, f).
double hv_improvement(const VectorXd& y, const MatrixXd& F, const VectorXd& r) {
  if (!(y.array() > r.array()).all()) return 0.0;
  for (Index i = 0; i < F.rows(); ++i)
    if ((F.row(i).transpose().array() >= y.array()).all()) return 0.0;
  const double box = (y - r).prod();
  if (F.rows() == 0) return box;
  MatrixXd C(F.rows(), F.cols());
  for (Index i = 0; i < F.rows(); ++i) C.row(i) = F.row(i).cwiseMin(y.transpose());
  return std::max(0.0, box - hypervolume(C, r));
}

// Everything one suggestion works with.
struct Fitted {
  std::vector<GaussianProcess> gps;  // per objective, on observed data only (used for reported mean/sd)
  std::vector<double> sign;          // +1 maximise, -1 minimise
  std::vector<bool> log_y;           // objective modelled as log(y)
  std::vector<std::optional<PowerTransform>> warp;  // per objective: output warping of the model space values
  MatrixXd E_ok;                     // (n_ok, dim) encoded successful observations
  MatrixXd Y_ok;                     // (n_ok, k) model space: sign * y or sign * log(y), then warped (if set)
  std::optional<GpClassifier> feas;
  std::size_t n_failed = 0;
};

Fitted fit_models(const Space& space, const OptimizerOptions& o, const MatrixXd& E, const MatrixXd& Y) {
  Fitted f;
  const auto k = static_cast<Index>(space.objectives.size());
  std::vector<Index> ok, failed;
  for (Index i = 0; i < Y.rows(); ++i) (Y.row(i).array().isNaN().all() ? failed : ok).push_back(i);
  f.n_failed = failed.size();
  f.E_ok.resize(static_cast<Index>(ok.size()), E.cols());
  f.Y_ok.resize(static_cast<Index>(ok.size()), k);
  for (std::size_t a = 0; a < ok.size(); ++a) {
    f.E_ok.row(static_cast<Index>(a)) = E.row(ok[a]);
    f.Y_ok.row(static_cast<Index>(a)) = Y.row(ok[a]);
  }
  for (Index j = 0; j < k; ++j) {
    const auto& obj = space.objectives[static_cast<std::size_t>(j)];
    const double s = obj.direction == Direction::Maximize ? 1.0 : -1.0;
    f.sign.push_back(s);
    f.log_y.push_back(obj.log_scale);
    if (obj.log_scale) {
      for (Index i = 0; i < f.Y_ok.rows(); ++i) {
        if (!(f.Y_ok(i, j) > 0))
          throw InvalidArgument("Y: objective '" + obj.name + "' is modelled on a log scale but row " +
                                std::to_string(ok[static_cast<std::size_t>(i)]) + " has the value " +
                                std::to_string(f.Y_ok(i, j)) + " (must be > 0)");
        f.Y_ok(i, j) = std::log(f.Y_ok(i, j));
      }
    }
    f.Y_ok.col(j) *= s;
  }
  f.warp.assign(static_cast<std::size_t>(k), std::nullopt);
  if (f.E_ok.rows() < 2) return f;
  if (o.y_transform == YTransform::Power) {
    for (Index j = 0; j < k; ++j) {
      const PowerTransform w = PowerTransform::fit(f.Y_ok.col(j));
      for (Index i = 0; i < f.Y_ok.rows(); ++i) f.Y_ok(i, j) = w.forward(f.Y_ok(i, j));
      f.warp[static_cast<std::size_t>(j)] = w;
    }
  }
  GpOptions g = o.gp;
  // The encoding already maps the search box onto [0, 1]^dim, which is what the lengthscale bounds and priors
  // assume; rescaling again by the data's min/max would stretch a cluster of early observations over the box.
  g.normalize_x = false;
  g.warp_inputs = learns_warp(o.input_warp);
  if (g.threads == 0) g.threads = o.threads;
  for (Index j = 0; j < k; ++j) {
    g.seed = o.seed + static_cast<std::uint64_t>(j);
    GaussianProcess gp(g);
    gp.fit(f.E_ok, f.Y_ok.col(j));
    f.gps.push_back(std::move(gp));
  }
  if (!failed.empty() && o.feasibility_model) {
    Eigen::VectorXi labels(Y.rows());
    for (Index i = 0; i < Y.rows(); ++i) labels(i) = Y.row(i).array().isNaN().all() ? 0 : 1;
    ClassifierOptions co;
    co.seed = o.seed;
    GpClassifier c(co);
    c.fit(E, labels);
    f.feas = std::move(c);
  }
  return f;
}

// A set of candidate points. Continuous problems may add refined points (L-BFGS) on the way; a pool may not.
struct Candidates {
  MatrixXd E;  // (m, dim) encoded
  MatrixXd N;  // (m, n_parameters) natural (continuous problems only)
};

// Two natural points are the same experiment when their discrete values agree and their continuous values agree
// within 1e-4 of the (log-)range: closer proposals cannot be told apart in a laboratory, and proposing them twice
// wastes an experiment (PI with xi = 0 would otherwise fill a batch with near-copies of the incumbent).
bool same_point(const Space& space, const VectorXd& a, const VectorXd& b) {
  for (std::size_t j = 0; j < space.parameters.size(); ++j) {
    const auto& p = space.parameters[j];
    const double x = a(static_cast<Index>(j)), y = b(static_cast<Index>(j));
    if (p.kind != ParamKind::Continuous) {
      if (x != y) return false;
    } else if (p.log_scale && x > 0 && y > 0) {
      if (std::abs(std::log(x / y)) > 1e-4 * std::log(p.upper / p.lower)) return false;
    } else if (std::abs(x - y) > 1e-4 * (p.upper - p.lower)) {
      return false;
    }
  }
  return true;
}

// Chosen batch members, by identity: natural point (continuous) or pool row.
struct Taken {
  const Space* space = nullptr;
  std::vector<VectorXd> points;
  std::vector<char> rows;  // pool: 1 = measured, pending or chosen
  bool has(const VectorXd& x) const {
    for (const auto& p : points)
      if (same_point(*space, p, x)) return true;
    return false;
  }
};

struct Choice {
  VectorXd enc, nat;
  Index row = -1;  // pool row
  double score = -kInf;
};

class Engine {
 public:
  Engine(const Space& space, const OptimizerOptions& o, const Fitted& f, bool pool)
      : space_(space), o_(o), f_(f), pool_(pool), rng_(core::make_rng(o.seed ^ 0x5bd1e995ULL)) {}

  // ---- candidates for continuous/mixed spaces: random feasible points + perturbations of the best observations
  Candidates make_candidates() {
    Candidates c;
    const MatrixXd R = space_.sample(static_cast<std::size_t>(o_.candidates), rng_);
    std::vector<VectorXd> local;
    const Index n_ok = f_.E_ok.rows();
    if (n_ok > 0) {
      std::vector<Index> best;
      if (f_.Y_ok.cols() == 1) {
        VectorXd y = f_.Y_ok.col(0);
        best = ranked(y);
        best.resize(std::min<std::size_t>(best.size(), 5));
      } else {
        for (auto i : pareto_front(f_.Y_ok)) best.push_back(static_cast<Index>(i));
        if (best.size() > 10) best.resize(10);
      }
      const int n_local = std::max(1, o_.candidates / 4);
      for (int i = 0; i < n_local && !best.empty(); ++i) {
        VectorXd e = f_.E_ok.row(best[static_cast<std::size_t>(i) % best.size()]).transpose();
        const double sd = i % 2 ? 0.1 : 0.02;  // near and wider neighbourhoods of the incumbents
        for (Index j = 0; j < e.size(); ++j) e(j) += sd * normal(rng_);
        const VectorXd x = space_.decode(e.transpose()).row(0).transpose();
        if (space_.feasible(x)) local.push_back(x);
      }
    }
    c.N.resize(R.rows() + static_cast<Index>(local.size()), R.cols());
    c.N.topRows(R.rows()) = R;
    for (std::size_t i = 0; i < local.size(); ++i) c.N.row(R.rows() + static_cast<Index>(i)) = local[i].transpose();
    c.E = space_.encode(c.N);
    return c;
  }

  // The best candidate by score s that is not taken yet (row = -1 when none is left).
  Choice pick(const VectorXd& s, const Candidates& c, const Taken& taken) const {
    Choice ch;
    const Index i = best_untaken(s, [&](Index r) {
      return pool_ ? taken.rows[static_cast<std::size_t>(r)] != 0 : taken.has(c.N.row(r).transpose());
    });
    if (i < 0) return ch;
    ch.row = i;
    ch.enc = c.E.row(i).transpose();
    if (!pool_) ch.nat = c.N.row(i).transpose();
    ch.score = s(i);
    return ch;
  }

  // Reported posterior of each objective at an encoded point, natural units (fitted on observations only).
  void report(const VectorXd& enc, MatrixXd& mean, MatrixXd& sd, Index q) const {
    for (std::size_t k = 0; k < f_.gps.size(); ++k) {
      const auto p = f_.gps[k].predict(enc.transpose());
      double mw = p.mean(0), vw = std::max(p.variance(0), 0.0);
      if (const auto& w = f_.warp[k]) {
        // back to the signed (log) scale: the median maps through the inverse; the sd by the delta method
        const double d = w->inverse_derivative(mw);
        vw = d * d * vw;
        mw = w->inverse(mw);
      }
      const double m = f_.sign[k] * mw, v = vw;
      if (f_.log_y[k]) {
        // log y ~ N(m, v): the log-normal moments of y
        mean(q, static_cast<Index>(k)) = std::exp(m + 0.5 * v);
        sd(q, static_cast<Index>(k)) = std::exp(m + 0.5 * v) * std::sqrt(std::expm1(v));
      } else {
        mean(q, static_cast<Index>(k)) = m;
        sd(q, static_cast<Index>(k)) = std::sqrt(v);
      }
    }
  }

  bool measurement() const { return o_.spread == Spread::Measurement || (o_.spread == Spread::Auto && pool_); }

  double p_feasible(const VectorXd& enc) const { return f_.feas ? f_.feas->probability(enc.transpose())(0) : 1.0; }

  // ---- single objective, closed-form acquisition (+ batches by KB / LP / Thompson)
  Scorer make_scorer(const GaussianProcess& gp, Acquisition acq, const MatrixXd& E_seen, const VectorXd& y_seen,
                     std::uint64_t member) {
    Scorer s;
    s.acq = acq == Acquisition::TS ? Acquisition::LogEI : acq;
    s.gp = &gp;
    s.best = y_seen.maxCoeff();
    s.xi = o_.xi * gp.y_scale();
    s.kappa = o_.kappa;
    s.measurement = measurement();
    s.noise_var = gp.hyperparameters().noise_variance * gp.y_scale() * gp.y_scale();
    s.scale = gp.y_scale() > 0 ? gp.y_scale() : 1.0;
    s.feas = f_.feas ? &*f_.feas : nullptr;
    if (s.acq == Acquisition::NoisyEI) {
      // Incumbent draws max_i f(x_i) from the joint posterior at the observed (and fantasised) inputs; only the
      // points that could plausibly hold the maximum (largest mean + 2 sd) enter, which keeps the joint draw small.
      const auto p = posterior(gp, E_seen);
      VectorXd ucb = p.mu + 2 * p.sd;
      auto order = ranked(ucb);
      if (order.size() > 200) order.resize(200);
      MatrixXd X(static_cast<Index>(order.size()), E_seen.cols());
      for (std::size_t i = 0; i < order.size(); ++i) X.row(static_cast<Index>(i)) = E_seen.row(order[i]);
      auto r = core::make_rng(o_.seed + 0x9e3779b97f4a7c15ULL * (member + 1));
      const MatrixXd D = gp.sample_posterior(X, o_.nei_samples, r);
      for (Index j = 0; j < D.cols(); ++j) s.nei_best.push_back(D.col(j).maxCoeff());
    }
    return s;
  }

  // Best point of the candidate set under `sc` (pool rows not yet taken / continuous points refined by L-BFGS-B).
  // log P(success) of every candidate; the classifier does not change within one suggestion, so it is computed once.
  const VectorXd& candidate_log_feasibility(const Candidates& c) {
    if (!lp_cache_) lp_cache_ = log_feasibility(f_.feas ? &*f_.feas : nullptr, c.E);
    return *lp_cache_;
  }

  // Posterior mean of the (first) objective at every pool row without the O(n^2)-per-row variance: the kernel block
  // times (K + s I)^-1 y, rebuilt from the GP's public pieces. Kriging-believer fantasies (y = mean) and pending
  // fantasies leave the posterior mean unchanged, so one evaluation per suggestion serves every batch member.
  const VectorXd& pool_mean(const GaussianProcess& gp, const MatrixXd& E) {
    if (pool_mean_) return *pool_mean_;
    const MatrixXd& Xt = gp.train_x();
    MatrixXd K = gp.kernel(Xt, Xt);
    K.diagonal().array() = gp.hyperparameters().signal_variance + gp.hyperparameters().noise_variance + gp.jitter();
    const Eigen::LLT<MatrixXd> llt(K);
    if (llt.info() != Eigen::Success) return *(pool_mean_ = VectorXd());
    const VectorXd alpha = llt.solve(gp.train_y());
    VectorXd mu(E.rows());
    constexpr Index block = 4096;
    const auto nblocks = static_cast<std::size_t>((E.rows() + block - 1) / block);
    core::parallel_for(nblocks, o_.threads, [&](std::size_t b, std::size_t e, unsigned) {
      for (std::size_t k = b; k < e; ++k) {
        const Index lo = static_cast<Index>(k) * block, len = std::min(block, E.rows() - lo);
        mu.segment(lo, len) = gp.kernel(gp.to_model_x(E.middleRows(lo, len)), Xt) * alpha;
      }
    });
    pool_mean_ = (mu.array() * gp.y_scale() + gp.y_shift()).matrix();
    return *pool_mean_;
  }

  // Exhaustive arg-max over a large pool without the variance of every row. EI, log EI, PI, NEI and UCB grow with
  // mu and (for PI once mu is below the target) at most to their value at sigma = prior sd, which no posterior sd
  // exceeds; feasibility and penalisers are exact per row. A row whose bound is below the best exact score found
  // cannot win, so rows are evaluated exactly in order of their bound until the next bound falls below the best.
  // In a 10^6-row pool that is typically well under 1 % of the rows. Returns row = -1 when the bound is unusable.
  Choice maximise_pool_pruned(const Scorer& sc, const Candidates& c, const Taken& taken) {
    Choice best;
    const VectorXd& mu = pool_mean(f_.gps[0], c.E);
    if (mu.size() != c.E.rows()) return best;
    const VectorXd& lp = candidate_log_feasibility(c);
    const auto& hp = sc.gp->hyperparameters();
    const double var_prior = hp.signal_variance + (sc.measurement ? hp.noise_variance : 0.0);
    const double sd_prior = std::sqrt(var_prior) * sc.gp->y_scale();
    const double delta = 1e-6 * sc.scale;  // covers round-off between this mean and the GP's own
    const Index m = c.E.rows();
    const double nei_min = sc.nei_best.empty() ? 0.0 : *std::min_element(sc.nei_best.begin(), sc.nei_best.end());
    VectorXd ub(m);
    core::parallel_for(static_cast<std::size_t>(m), o_.threads, [&](std::size_t b, std::size_t e, unsigned) {
      double dm, ds;
      for (auto i = static_cast<Index>(b); i < static_cast<Index>(e); ++i) {
        if (taken.rows[static_cast<std::size_t>(i)]) {
          ub(i) = -kInf;
          continue;
        }
        // NEI averages EI over incumbents: below EI at the smallest incumbent (one log EI instead of one per draw)
        double u = sc.acq == Acquisition::NoisyEI
                       ? acquisition_value(Acquisition::LogEI, mu(i) + delta, sd_prior, nei_min, sc.xi).value
                       : sc.base(mu(i) + delta, sd_prior, dm, ds);
        if (sc.acq == Acquisition::PI) u = std::max(u, sc.base(mu(i) + delta, 0.0, dm, ds));  // PI peaks at sigma 0
        if (lp.size()) u += lp(i);
        if (!sc.pen.empty()) u += sc.penalty(c.E.row(i).transpose(), nullptr);
        ub(i) = std::isnan(u) ? kInf : u;  // a NaN bound proves nothing: evaluate that row
      }
    });
    std::vector<Index> idx;
    idx.reserve(static_cast<std::size_t>(m));
    for (Index i = 0; i < m; ++i)
      if (!taken.rows[static_cast<std::size_t>(i)]) idx.push_back(i);
    auto by_bound = [&ub](Index a, Index b) { return ub(a) > ub(b) || (ub(a) == ub(b) && a < b); };
    std::size_t done = 0, next = std::min<std::size_t>(idx.size(), 2048);
    while (done < idx.size()) {
      std::nth_element(idx.begin() + static_cast<std::ptrdiff_t>(done),
                       idx.begin() + static_cast<std::ptrdiff_t>(next) - 1, idx.end(), by_bound);
      std::sort(idx.begin() + static_cast<std::ptrdiff_t>(done), idx.begin() + static_cast<std::ptrdiff_t>(next),
                by_bound);
      MatrixXd Es(static_cast<Index>(next - done), c.E.cols());
      for (std::size_t a = done; a < next; ++a) Es.row(static_cast<Index>(a - done)) = c.E.row(idx[a]);
      const Posterior post = posterior(*sc.gp, Es, sc.measurement);
      VectorXd lps;
      if (lp.size()) {
        lps.resize(Es.rows());
        for (std::size_t a = done; a < next; ++a) lps(static_cast<Index>(a - done)) = lp(idx[a]);
      }
      const VectorXd s = sc.scores(Es, post, lps, o_.threads);
      for (std::size_t a = done; a < next; ++a) {
        const double v = s(static_cast<Index>(a - done));
        const Index row = idx[a];
        if (std::isnan(v)) continue;
        if (best.row < 0 || v > best.score || (v == best.score && row < best.row)) {
          best.row = row;
          best.score = v;
        }
      }
      done = next;
      if (done == idx.size() || (best.row >= 0 && best.score > ub(idx[done]))) break;
      next = std::min(idx.size(), done * 4);
    }
    if (best.row >= 0) best.enc = c.E.row(best.row).transpose();
    return best;
  }

  Choice maximise(Scorer& sc, const Candidates& c, const Taken& taken, bool refine) {
    if (pool_ && c.E.rows() >= kPrunePool && c.E.rows() >= 10 * sc.gp->train_x().rows() &&
        !(sc.acq == Acquisition::UCB && sc.shift_ucb)) {
      Choice ch = maximise_pool_pruned(sc, c, taken);
      if (ch.row >= 0) return ch;
    }
    const Posterior post = posterior(*sc.gp, c.E, sc.measurement);
    if (sc.acq == Acquisition::UCB && sc.shift_ucb) {
      double lo = kInf;
      for (Index i = 0; i < c.E.rows(); ++i)
        if (!pool_ || !taken.rows[static_cast<std::size_t>(i)]) lo = std::min(lo, post.mu(i) + sc.kappa * post.sd(i));
      sc.floor = lo - 1e-3 * sc.scale;
    }
    const VectorXd s = sc.scores(c.E, post, candidate_log_feasibility(c), o_.threads);
    Choice best = pick(s, c, taken);
    if (!refine || o_.starts == 0 || best.row < 0) return best;
    // L-BFGS-B from the best distinct candidates
    const auto order = ranked(s);
    std::vector<Index> starts;
    for (Index i : order) {
      bool dup = false;
      for (Index j : starts) dup = dup || c.E.row(i) == c.E.row(j);
      if (!dup) starts.push_back(i);
      if (starts.size() == static_cast<std::size_t>(o_.starts)) break;
    }
    std::vector<VectorXd> ends(starts.size());
    core::parallel_for(starts.size(), o_.threads, [&](std::size_t b, std::size_t e, unsigned) {
      for (std::size_t t = b; t < e; ++t) ends[t] = refine_point(sc, c.E.row(starts[t]).transpose());
    });
    // decoded (rounded, clamped) refined points, scored exactly like the candidates
    MatrixXd N(static_cast<Index>(ends.size()), c.N.cols());
    for (std::size_t t = 0; t < ends.size(); ++t)
      N.row(static_cast<Index>(t)) = space_.decode(ends[t].transpose()).row(0);
    const MatrixXd E = space_.encode(N);
    const VectorXd sr = sc.scores(E, posterior(*sc.gp, E, sc.measurement), log_feasibility(sc.feas, E), 1);
    for (Index t = 0; t < E.rows(); ++t) {
      const VectorXd x = N.row(t).transpose();
      if (!(sr(t) > best.score) || !space_.feasible(x) || taken.has(x)) continue;
      best.score = sr(t);
      best.enc = E.row(t).transpose();
      best.nat = x;
      best.row = -1;
    }
    return best;
  }

  // One L-BFGS-B run in the unit box maximising the score; a linear-constraint violation is pulled back along the
  // segment towards the (feasible) start.
  VectorXd refine_point(const Scorer& sc, const VectorXd& start) const {
    const Index d = start.size();
    LBFGSpp::LBFGSBParam<double> param;
    param.max_iterations = 60;
    param.epsilon = 1e-6;
    param.epsilon_rel = 1e-6;
    param.max_linesearch = 30;
    LBFGSpp::LBFGSBSolver<double> solver(param);
    const double unit = sc.log_domain() ? 1.0 : 1.0 / sc.scale;  // keeps the tolerances meaningful for UCB
    VectorXd best_x = start;
    double best_f = kInf;
    auto fn = [&](const VectorXd& x, VectorXd& g) -> double {
      VectorXd gs;
      const double s = sc.score_grad(x, gs);
      if (!std::isfinite(s) || !gs.allFinite()) {
        g.setZero();
        return 1e300;
      }
      const double f = -s * unit;
      g = -unit * gs;
      if (f < best_f) {
        best_f = f;
        best_x = x;
      }
      return f;
    };
    VectorXd x = start.cwiseMax(0.0).cwiseMin(1.0);
    double fx = 0;
    try {
      solver.minimize(fn, x, fx, VectorXd::Zero(d), VectorXd::Ones(d));
    } catch (const std::exception&) {
      // line search gave up (flat or -inf regions): keep the best point seen
    }
    if (space_.constraints.empty()) return best_x;
    auto ok = [&](const VectorXd& e) { return space_.feasible(space_.decode(e.transpose()).row(0).transpose()); };
    if (ok(best_x)) return best_x;
    double lo = 0, hi = 1;
    for (int it = 0; it < 40; ++it) {
      const double mid = 0.5 * (lo + hi);
      (ok(start + mid * (best_x - start)) ? lo : hi) = mid;
    }
    return start + lo * (best_x - start);
  }

  // Lipschitz constant of the posterior mean (Gonzalez et al. 2016): the largest gradient norm over a sample.
  double lipschitz(const GaussianProcess& gp, const MatrixXd& E) const {
    const Index m = std::min<Index>(E.rows(), 500);
    std::vector<double> norms(static_cast<std::size_t>(m), 0.0);
    const Index stride = std::max<Index>(1, E.rows() / std::max<Index>(m, 1));
    core::parallel_for(static_cast<std::size_t>(m), o_.threads, [&](std::size_t b, std::size_t e, unsigned) {
      for (std::size_t i = b; i < e; ++i) {
        double mu, v;
        VectorXd dm, dv;
        gp.predict_with_gradient(E.row(static_cast<Index>(i) * stride).transpose(), mu, v, dm, dv);
        norms[i] = dm.norm();
      }
    });
    const double L = norms.empty() ? 0 : *std::max_element(norms.begin(), norms.end());
    return L < 1e-7 ? 10.0 : L;  // flat mean: the default of Gonzalez et al.
  }

  // Thompson draw over the candidate rows (original units, maximisation convention).
  VectorXd thompson_draw(const GaussianProcess& gp, const MatrixXd& E, std::optional<RandomFeatures>& rff) {
    if (E.rows() <= kExactThompson) return gp.sample_posterior(E, 1, rng_).col(0);
    if (!rff) rff.emplace(gp, o_.rff_features, rng_);
    const VectorXd w = rff->sample_weights(rng_);
    VectorXd f(E.rows());
    const auto nchunks = static_cast<std::size_t>((E.rows() + 4095) / 4096);
    core::parallel_for(nchunks, o_.threads, [&](std::size_t b, std::size_t e, unsigned) {
      for (std::size_t c = b; c < e; ++c) {
        const Index lo = static_cast<Index>(c) * 4096, len = std::min<Index>(4096, E.rows() - lo);
        f.segment(lo, len) = rff->evaluate(E.middleRows(lo, len), w);
      }
    });
    return f;
  }

  Choice thompson_member(const GaussianProcess& gp, const Candidates& c, const Taken& taken,
                         std::optional<RandomFeatures>& rff) {
    const VectorXd f = thompson_draw(gp, c.E, rff);
    VectorXd s = f;
    if (f_.feas) {
      // the draw can be negative: shift it positive over the candidates before multiplying by P(success)
      const VectorXd& lp = candidate_log_feasibility(c);
      const double lo = f.minCoeff() - 1e-3 * (gp.y_scale() > 0 ? gp.y_scale() : 1.0);
      for (Index i = 0; i < s.size(); ++i) s(i) = std::log(f(i) - lo) + lp(i);
    }
    Choice ch = pick(s, c, taken);
    if (ch.row >= 0) ch.score = f_.feas ? std::exp(s(ch.row)) : f(ch.row);
    return ch;
  }

  // ---- multi-objective: expected hypervolume improvement with fixed normal draws, over the candidates
  Choice ehvi_member(const std::vector<GaussianProcess>& gps, const MatrixXd& front_pts, const VectorXd& ref,
                     const MatrixXd& eps, const Candidates& c, const Taken& taken, const VectorXd& lp) {
    const auto k = static_cast<Index>(gps.size());
    std::vector<Posterior> post;
    for (const auto& gp : gps) post.push_back(posterior(gp, c.E, measurement()));
    const auto fi = pareto_front(front_pts);
    MatrixXd F(static_cast<Index>(fi.size()), k);
    for (std::size_t i = 0; i < fi.size(); ++i) F.row(static_cast<Index>(i)) = front_pts.row(static_cast<Index>(fi[i]));
    VectorXd s = VectorXd::Constant(c.E.rows(), -kInf);
    core::parallel_for(static_cast<std::size_t>(c.E.rows()), o_.threads, [&](std::size_t b, std::size_t e, unsigned) {
      VectorXd y(k);
      for (auto i = static_cast<Index>(b); i < static_cast<Index>(e); ++i) {
        if (pool_ && taken.rows[static_cast<std::size_t>(i)]) continue;
        double acc = 0;
        for (Index r = 0; r < eps.rows(); ++r) {
          for (Index j = 0; j < k; ++j)
            y(j) = post[static_cast<std::size_t>(j)].mu(i) + post[static_cast<std::size_t>(j)].sd(i) * eps(r, j);
          acc += hv_improvement(y, F, ref);
        }
        s(i) = acc / static_cast<double>(eps.rows());
        if (lp.size()) s(i) *= std::exp(lp(i));
      }
    });
    return pick(s, c, taken);
  }

  // Runs the whole selection of `batch` members; `pending_enc` are fantasised first.
  struct Result {
    std::vector<Choice> chosen;
    std::string method;
  };

  Result run(const Candidates& c, Taken taken, const MatrixXd& pending_enc, int batch) {
    Result res;
    const std::size_t K = f_.gps.size();
    std::vector<GaussianProcess> cur = f_.gps;  // with fantasies
    MatrixXd E_seen = f_.E_ok;
    MatrixXd Y_seen = f_.Y_ok;
    auto fantasise = [&](const VectorXd& enc) {
      Eigen::RowVectorXd y(static_cast<Index>(K));
      for (std::size_t k = 0; k < K; ++k) {
        const double m = cur[k].predict(enc.transpose()).mean(0);
        cur[k].add_observation(enc, m);
        y(static_cast<Index>(k)) = m;
      }
      E_seen.conservativeResize(E_seen.rows() + 1, Eigen::NoChange);
      E_seen.row(E_seen.rows() - 1) = enc.transpose();
      Y_seen.conservativeResize(Y_seen.rows() + 1, Eigen::NoChange);
      Y_seen.row(Y_seen.rows() - 1) = y;
    };
    for (Index i = 0; i < pending_enc.rows(); ++i) fantasise(pending_enc.row(i).transpose());

    const bool refine = !pool_;
    auto take = [&](const Choice& ch) {
      if (ch.enc.size() == 0)
        throw InvalidArgument("batch: only " + std::to_string(res.chosen.size()) +
                              " distinct points of the space are left to propose (the others are pending or already "
                              "in this batch)");
      res.chosen.push_back(ch);
      if (pool_)
        taken.rows[static_cast<std::size_t>(ch.row)] = 1;
      else
        taken.points.push_back(ch.nat);
    };

    if (K >= 2) {
      // reference point: given (natural units) or the nadir of the observed front minus 10 % of its range
      VectorXd ref(static_cast<Index>(K));
      if (!o_.reference_point.empty()) {
        for (std::size_t k = 0; k < K; ++k) {
          const double r = o_.reference_point[k];
          if (f_.log_y[k] && !(r > 0))
            throw InvalidArgument("optimizer.reference_point: objective " + std::to_string(k) +
                                  " is modelled on a log scale, so its reference must be > 0 (got " +
                                  std::to_string(r) + ")");
          ref(static_cast<Index>(k)) = f_.sign[k] * (f_.log_y[k] ? std::log(r) : r);
          if (f_.warp[k]) ref(static_cast<Index>(k)) = f_.warp[k]->forward(ref(static_cast<Index>(k)));
        }
      } else {
        const auto fi = pareto_front(f_.Y_ok);
        for (std::size_t k = 0; k < K; ++k) {
          double lo = kInf, hi = -kInf;
          for (auto i : fi) {
            lo = std::min(lo, f_.Y_ok(static_cast<Index>(i), static_cast<Index>(k)));
            hi = std::max(hi, f_.Y_ok(static_cast<Index>(i), static_cast<Index>(k)));
          }
          const double range = hi > lo ? hi - lo : std::max(std::abs(lo), 1.0);
          ref(static_cast<Index>(k)) = lo - 0.1 * range;
        }
      }
      MatrixXd eps(o_.mc_samples, static_cast<Index>(K));
      for (Index r = 0; r < eps.rows(); ++r)
        for (Index j = 0; j < eps.cols(); ++j) eps(r, j) = normal(rng_);
      const VectorXd lp = candidate_log_feasibility(c);
      for (int q = 0; q < batch; ++q) {
        take(ehvi_member(cur, Y_seen, ref, eps, c, taken, lp));
        if (q + 1 < batch) fantasise(res.chosen.back().enc);
      }
      res.method = "ehvi (" + std::to_string(K) + " objectives, " + std::to_string(o_.mc_samples) + " MC draws)";
      if (batch > 1) res.method += " + kriging believer";
      return res;
    }

    const Acquisition acq = o_.acquisition;
    if (acq == Acquisition::TS) {
      std::optional<RandomFeatures> rff;
      for (int q = 0; q < batch; ++q) take(thompson_member(cur[0], c, taken, rff));
      res.method =
          std::string("ts (") + (c.E.rows() <= kExactThompson ? "exact joint draws" : "random Fourier features") + ")";
      return res;
    }
    std::vector<Penalty> penalties;
    double L = 0, M = 0;
    const BatchMethod bm = o_.batch_method;
    if (bm == BatchMethod::LocalPenalization && batch > 1) {
      L = lipschitz(f_.gps[0], c.E);
      M = f_.Y_ok.col(0).maxCoeff();
    }
    std::optional<RandomFeatures> rff;
    for (int q = 0; q < batch; ++q) {
      if (q > 0 && bm == BatchMethod::Thompson) {
        take(thompson_member(cur[0], c, taken, rff));
      } else {
        Scorer sc = make_scorer(cur[0], acq, E_seen, Y_seen.col(0), static_cast<std::uint64_t>(q));
        sc.shift_ucb = acq == Acquisition::UCB && (f_.feas || !penalties.empty());
        sc.pen = penalties;
        sc.L = L;
        sc.M = M;
        Choice ch = maximise(sc, c, taken, refine);
        if (ch.enc.size() && sc.log_domain() && acq != Acquisition::LogEI) ch.score = std::exp(ch.score);
        take(ch);
      }
      if (q + 1 == batch) break;
      const VectorXd& enc = res.chosen.back().enc;
      if (bm == BatchMethod::LocalPenalization) {
        const auto p = f_.gps[0].predict(enc.transpose());
        penalties.push_back(
            {enc, p.mean(0), std::max(std::sqrt(std::max(p.variance(0), 0.0)), 1e-12 * f_.gps[0].y_scale() + kTiny)});
      } else if (bm == BatchMethod::KrigingBeliever) {
        fantasise(enc);
      }  // Thompson members are independent posterior draws; `taken` keeps them distinct
    }
    res.method = acquisition_name(acq);
    if (batch > 1)
      res.method += bm == BatchMethod::KrigingBeliever     ? " + kriging believer"
                    : bm == BatchMethod::LocalPenalization ? " + local penalization"
                                                           : " + thompson batch";
    return res;
  }

 private:
  const Space& space_;
  const OptimizerOptions& o_;
  const Fitted& f_;
  bool pool_;
  core::Rng rng_;
  std::optional<VectorXd> lp_cache_, pool_mean_;
};

void check_matrix(const MatrixXd& M, Index cols, const std::string& name, bool allow_nan) {
  if (M.cols() != cols && !(M.rows() == 0))
    throw InvalidArgument(name + ": has " + std::to_string(M.cols()) + " columns, expected " + std::to_string(cols));
  if (!allow_nan)
    for (Index i = 0; i < M.rows(); ++i)
      if (!M.row(i).allFinite()) throw InvalidArgument(name + ": row " + std::to_string(i) + " has a non-finite value");
}

void check_y(const MatrixXd& Y) {
  for (Index i = 0; i < Y.rows(); ++i) {
    const auto nan = Y.row(i).array().isNaN();
    if (nan.any() && !nan.all())
      throw InvalidArgument("Y: row " + std::to_string(i) +
                            " is partly NaN (either every objective was measured or the experiment failed)");
    if (!nan.any() && !Y.row(i).allFinite())
      throw InvalidArgument("Y: row " + std::to_string(i) + " has an infinite value");
  }
}

std::string with_notes(std::string method, const Fitted& f, Index pending) {
  if (f.feas) method += " x P(success) (" + std::to_string(f.n_failed) + " failed)";
  if (pending > 0) method += "; " + std::to_string(pending) + " pending as fantasies";
  return method;
}

}  // namespace

Optimizer::Optimizer(Space space, OptimizerOptions options) : space_(std::move(space)), options_(std::move(options)) {
  space_.validate();
  options_.validate();
}

Suggestion Optimizer::suggest(const Observations& data, int batch) const {
  if (batch < 1) throw InvalidArgument("batch: must be >= 1 (got " + std::to_string(batch) + ")");
  const auto P = static_cast<Index>(space_.n_parameters());
  const auto K = static_cast<Index>(space_.objectives.size());
  if (K == 0) throw InvalidArgument("suggest: the space has no objectives");
  // The rank encodings are defined by a pool's rows; refused here rather than silently ignored.
  if (needs_pool(options_.input_warp))
    throw InvalidArgument("input_warp: '" + input_warp_name(options_.input_warp) +
                          "' needs a candidate pool (suggest_pool, bo pool); suggest takes none or learned");
  if (!options_.reference_point.empty() && static_cast<Index>(options_.reference_point.size()) != K)
    throw InvalidArgument("optimizer.reference_point: has " + std::to_string(options_.reference_point.size()) +
                          " entries, the space has " + std::to_string(K) + " objectives");
  if (data.X.cols() != P && data.X.rows() > 0)
    throw InvalidArgument("X: has " + std::to_string(data.X.cols()) + " columns, the space has " + std::to_string(P) +
                          " parameters");
  if (data.Y.rows() != data.X.rows() || (data.Y.cols() != K && data.Y.rows() > 0))
    throw InvalidArgument("Y: shape (" + std::to_string(data.Y.rows()) + ", " + std::to_string(data.Y.cols()) +
                          "), expected (" + std::to_string(data.X.rows()) + ", " + std::to_string(K) + ")");
  check_matrix(data.X, P, "X", false);
  check_matrix(data.pending, P, "pending", false);
  check_y(data.Y);

  const MatrixXd X = data.X.rows() ? data.X : MatrixXd(0, P);
  const MatrixXd Y = data.Y.rows() ? data.Y : MatrixXd(0, K);
  const MatrixXd E = space_.encode(X);
  const Fitted f = fit_models(space_, options_, E, Y);

  Suggestion out;
  out.points.resize(batch, P);
  out.acquisition.resize(batch);
  out.mean.resize(batch, K);
  out.sd.resize(batch, K);
  out.p_feasible = VectorXd::Ones(batch);
  if (f.gps.empty()) {
    auto rng = core::make_rng(options_.seed);
    out.points = space_.sample(static_cast<std::size_t>(batch), rng);
    out.acquisition.setConstant(std::numeric_limits<double>::quiet_NaN());
    out.mean.setConstant(std::numeric_limits<double>::quiet_NaN());
    out.sd.setConstant(std::numeric_limits<double>::quiet_NaN());
    out.method = "random (fewer than 2 results)";
    return out;
  }
  for (const auto& gp : f.gps) {
    out.models.push_back(gp.hyperparameters());
    out.log_marginal_likelihood.push_back(gp.log_marginal_likelihood());
  }
  Engine engine(space_, options_, f, false);
  const Candidates c = engine.make_candidates();
  Taken taken;
  taken.space = &space_;
  for (Index i = 0; i < data.pending.rows(); ++i) taken.points.push_back(data.pending.row(i).transpose());
  const MatrixXd pend_enc = data.pending.rows() ? space_.encode(data.pending) : MatrixXd(0, E.cols());
  const auto r = engine.run(c, taken, pend_enc, batch);
  for (int q = 0; q < batch; ++q) {
    const auto& ch = r.chosen[static_cast<std::size_t>(q)];
    out.points.row(q) = ch.nat.transpose();
    out.acquisition(q) = ch.score;
    engine.report(ch.enc, out.mean, out.sd, q);
    out.p_feasible(q) = engine.p_feasible(ch.enc);
  }
  out.method = with_notes(r.method, f, data.pending.rows());
  if (learns_warp(options_.input_warp)) out.method += "; learned input warp";
  return out;
}

PoolSuggestion Optimizer::suggest_pool(const MatrixXd& pool, const std::vector<std::size_t>& measured,
                                       const MatrixXd& Y, int batch, const std::vector<std::size_t>& pending) const {
  if (batch < 1) throw InvalidArgument("batch: must be >= 1 (got " + std::to_string(batch) + ")");
  const auto P = static_cast<Index>(space_.n_parameters());
  const auto K = static_cast<Index>(space_.objectives.size());
  if (K == 0) throw InvalidArgument("suggest_pool: the space has no objectives");
  if (pool.cols() != P)
    throw InvalidArgument("pool: has " + std::to_string(pool.cols()) + " columns, the space has " + std::to_string(P) +
                          " parameters");
  check_matrix(pool, P, "pool", false);
  const auto m = static_cast<std::size_t>(pool.rows());
  if (Y.rows() != static_cast<Index>(measured.size()) || (Y.cols() != K && Y.rows() > 0))
    throw InvalidArgument("Y: shape (" + std::to_string(Y.rows()) + ", " + std::to_string(Y.cols()) + "), expected (" +
                          std::to_string(measured.size()) + ", " + std::to_string(K) + ")");
  check_y(Y);
  Taken taken;
  taken.space = &space_;
  taken.rows.assign(m, 0);
  for (auto i : measured) {
    if (i >= m)
      throw InvalidArgument("measured: row " + std::to_string(i) + " is outside the pool of " + std::to_string(m));
    if (taken.rows[i]) throw InvalidArgument("measured: row " + std::to_string(i) + " appears twice");
    taken.rows[i] = 1;
  }
  for (auto i : pending) {
    if (i >= m)
      throw InvalidArgument("pending: row " + std::to_string(i) + " is outside the pool of " + std::to_string(m));
    if (taken.rows[i]) throw InvalidArgument("pending: row " + std::to_string(i) + " is measured or listed twice");
    taken.rows[i] = 1;
  }
  const std::size_t left = m - measured.size() - pending.size();
  if (left < static_cast<std::size_t>(batch))
    throw InvalidArgument("batch: " + std::to_string(batch) + " rows requested but only " + std::to_string(left) +
                          " unmeasured rows are left in the pool");

  Candidates c;
  c.E = space_.encode(pool);
  auto fit_on = [&](const MatrixXd& enc) {
    MatrixXd E(static_cast<Index>(measured.size()), enc.cols());
    for (std::size_t a = 0; a < measured.size(); ++a)
      E.row(static_cast<Index>(a)) = enc.row(static_cast<Index>(measured[a]));
    return fit_models(space_, options_, E, Y.rows() ? Y : MatrixXd(0, K));
  };
  auto evidence = [](const Fitted& fm) {
    double v = 0;
    for (const auto& gp : fm.gps) v += gp.log_marginal_likelihood();
    return v;
  };
  std::string warp_note;
  Fitted f;
  if (!needs_pool(options_.input_warp)) {
    f = fit_on(c.E);
    if (options_.input_warp == InputWarp::Learned) warp_note = "learned input warp";
  } else {
    MatrixXd R = rank_columns(c.E);
    f = fit_on(R);
    bool rank = true;
    if (options_.input_warp == InputWarp::Auto && !f.gps.empty()) {
      Fitted plain = fit_on(c.E);
      const double lr = evidence(f), lp = evidence(plain);
      rank = lr > lp;  // a tie keeps the plain encoding
      if (!rank) f = std::move(plain);
      warp_note = std::string(rank ? "rank-warped" : "plain") + " inputs by evidence (log ML rank-warped " +
                  core::format_double(lr) + ", plain " + core::format_double(lp) + ")";
    } else {
      warp_note = options_.input_warp == InputWarp::RankLearned ? "rank-warped inputs with a learned warp"
                                                                : "rank-warped inputs";
    }
    if (rank) c.E = std::move(R);
  }

  PoolSuggestion out;
  out.acquisition.resize(batch);
  out.mean.resize(batch, K);
  out.sd.resize(batch, K);
  if (f.gps.empty()) {
    // fewer than 2 results: uniformly random distinct unmeasured rows
    auto rng = core::make_rng(options_.seed);
    std::vector<std::size_t> free;
    for (std::size_t i = 0; i < m; ++i)
      if (!taken.rows[i]) free.push_back(i);
    for (int q = 0; q < batch; ++q) {
      const auto j = static_cast<std::size_t>(core::uniform_index(rng, free.size() - static_cast<std::size_t>(q)));
      std::swap(free[static_cast<std::size_t>(q)], free[static_cast<std::size_t>(q) + j]);
      out.indices.push_back(free[static_cast<std::size_t>(q)]);
    }
    out.acquisition.setConstant(std::numeric_limits<double>::quiet_NaN());
    out.mean.setConstant(std::numeric_limits<double>::quiet_NaN());
    out.sd.setConstant(std::numeric_limits<double>::quiet_NaN());
    out.method = "random (fewer than 2 results)";
    return out;
  }
  MatrixXd pend_enc(static_cast<Index>(pending.size()), c.E.cols());
  for (std::size_t a = 0; a < pending.size(); ++a)
    pend_enc.row(static_cast<Index>(a)) = c.E.row(static_cast<Index>(pending[a]));
  Engine engine(space_, options_, f, true);
  const auto r = engine.run(c, taken, pend_enc, batch);
  for (int q = 0; q < batch; ++q) {
    const auto& ch = r.chosen[static_cast<std::size_t>(q)];
    out.indices.push_back(static_cast<std::size_t>(ch.row));
    out.acquisition(q) = ch.score;
    engine.report(ch.enc, out.mean, out.sd, q);
  }
  out.method = with_notes(r.method, f, static_cast<Index>(pending.size()));
  if (!warp_note.empty()) out.method += "; " + warp_note;
  return out;
}

}  // namespace tsunagu::bayesopt
