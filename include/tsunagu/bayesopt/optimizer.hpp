#pragma once
/// Bayesian optimisation: from observations to the next experiments.
///
/// One GP per objective is fitted on encoded inputs (Space::encode) and on y negated for minimised objectives, so
/// every acquisition maximises. Continuous/mixed spaces: the acquisition is evaluated on `candidates` random feasible
/// points plus Gaussian perturbations of the best observations, and the best `starts` of them are refined by L-BFGS-B
/// in the encoded box with analytic gradients (one-hot and integer dimensions are rounded by decode afterwards);
/// a refined point that violates a linear constraint is pulled back along the segment to its feasible start.
/// Pools are evaluated exhaustively, in blocks, on all threads.
///
/// Batches (q > 1): kriging believer (the GP is conditioned on its own mean at each chosen point, O(n^2) per point),
/// local penalisation (Gonzalez et al. 2016: the acquisition is multiplied by a penaliser around each chosen point
/// with the Lipschitz constant estimated from the GP mean gradient), or Thompson sampling (one posterior draw per
/// batch member; exact joint draws on <= 2,000 points, random Fourier features beyond). Pending experiments
/// (proposed/running, not measured) enter as kriging-believer fantasies so that they are not proposed again.
///
/// Multi-objective (>= 2 objectives): the expected hypervolume improvement over the current Pareto front of the
/// observations (reference point: `reference_point`, or the nadir minus 10 % of the range), estimated with
/// `mc_samples` fixed normal draws from independent per-objective posteriors, maximised over the candidate set;
/// batches by kriging believer.
///
/// Unknown constraints: observations whose Y row is all NaN are failed experiments; when there are any (and
/// feasibility_model), a GpClassifier of success is fitted and its probability multiplies the acquisition (EI-type
/// acquisitions; for logEI the log probability is added; for UCB/TS, whose values can be negative, the acquisition
/// is shifted to be positive over the candidates before the multiplication).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/bayesopt/acquisition.hpp"
#include "tsunagu/bayesopt/gp.hpp"
#include "tsunagu/bayesopt/space.hpp"
#include "tsunagu/bayesopt/transform.hpp"

namespace tsunagu::bayesopt {

enum class BatchMethod { KrigingBeliever, LocalPenalization, Thompson };
BatchMethod parse_batch_method(const std::string& name);  ///< kb|lp|ts
std::string batch_method_name(BatchMethod m);

/// Which spread the acquisition sees. Latent: the posterior sd of f(x). Measurement: the sd of a new measurement
/// y = f(x) + noise (latent variance plus the fitted noise variance). Auto: Measurement for pools, where the goal
/// is the measured value of a row and each row is measured once (noisy rows can still be the measured best), Latent
/// for continuous spaces, where a good x can be measured again. Reported mean/sd are always those of f.
enum class Spread { Auto, Latent, Measurement };
Spread parse_spread(const std::string& name);  ///< auto|latent|measurement
std::string spread_name(Spread s);

/// How the (encoded, unit-box) parameter columns are presented to the GP. None: as encoded (min-max over the space
/// bounds). Rank: each column replaced by the mid-rank of its value among the pool's rows, rescaled to
/// [0, 1] — a monotone transform known before anything is measured, which spreads out values that crowd one end of
/// a column (compositions with many near-zero fractions) and makes the model invariant to monotone rescaling of a
/// column, as tree models are. Auto: the GP is fitted on both and the one with the higher log marginal likelihood
/// (the sum over objectives; log posterior under MAP) is used for that suggestion — model selection by evidence,
/// redone at every suggestion. Learned: the GP learns a Kumaraswamy CDF warp of each encoded column with its
/// hyperparameters (GpOptions::warp_inputs; Snoek et al. 2014) — a smooth monotone warp chosen by the data, which
/// also applies to continuous spaces. RankLearned: the learned warp on top of the rank encoding. Optimizer::suggest
/// (continuous spaces, no pool to rank against) refuses Rank, Auto and RankLearned with InvalidArgument.
enum class InputWarp { None, Rank, Auto, Learned, RankLearned };
InputWarp parse_input_warp(const std::string& name);  ///< none|rank|auto|learned|rank+learned
std::string input_warp_name(InputWarp w);
bool needs_pool(InputWarp w);   ///< Rank, Auto, RankLearned: defined by a pool's rows
bool learns_warp(InputWarp w);  ///< Learned, RankLearned: the GP fits a Kumaraswamy warp (GpOptions::warp_inputs)

/// Rank encoding of a pool (m, dim): column-wise mid-ranks of equal values, mapped linearly onto [0, 1] (lowest value
/// 0, highest 1; a constant column is all 0). Binary columns (one-hot) stay 0/1.
Eigen::MatrixXd rank_columns(const Eigen::MatrixXd& E);

struct OptimizerOptions {
  Acquisition acquisition = Acquisition::LogEI;
  double xi = 0.0;            ///< EI/PI improvement margin, standardised-y units; >= 0
  double kappa = 2.0;         ///< UCB exploration weight (sd units); >= 0
  Spread spread = Spread::Auto;  ///< sd seen by EI/logEI/PI/UCB/NEI (see Spread)
  /// Power: each objective's GP is fitted to a Yeo-Johnson transform of its (direction-signed, optionally log)
  /// values with lambda by maximum likelihood at every suggestion (transform.hpp); reported means are then the
  /// back-transformed posterior medians and sds delta-method approximations. None: the values as they are.
  YTransform y_transform = YTransform::None;
  InputWarp input_warp = InputWarp::None;  ///< see InputWarp; suggest() takes None or Learned
  BatchMethod batch_method = BatchMethod::KrigingBeliever;  ///< ignored for acquisition TS (always Thompson)
  GpOptions gp;               ///< surrogate settings (kernel, ARD, noise, restarts, ...)
  int candidates = 1000;      ///< random points evaluated before local refinement (continuous spaces); >= 1
  int starts = 5;             ///< L-BFGS-B refinements from the best candidates; >= 0
  int rff_features = 1000;    ///< random Fourier features for Thompson sampling on large sets; >= 1
  int nei_samples = 32;       ///< incumbent draws for NoisyEI; >= 1
  int mc_samples = 128;       ///< EHVI Monte-Carlo draws; >= 1
  std::vector<double> reference_point;  ///< multi-objective, natural units, one per objective; empty = automatic
  bool feasibility_model = true;        ///< model failed experiments with a GP classifier
  std::uint64_t seed = 0;
  unsigned threads = 0;       ///< 0 = core::default_threads()
  void validate() const;      ///< InvalidArgument naming the field
};

struct Observations {
  Eigen::MatrixXd X;        ///< (n, n_parameters) natural units
  Eigen::MatrixXd Y;        ///< (n, n_objectives) natural units; a row of all NaN = failed experiment
  Eigen::MatrixXd pending;  ///< (p, n_parameters) natural: proposed or running, not measured yet (may be empty)
};

struct Suggestion {
  Eigen::MatrixXd points;       ///< (q, n_parameters) natural units
  Eigen::VectorXd acquisition;  ///< (q) acquisition value when chosen (log scale for LogEI)
  Eigen::MatrixXd mean, sd;     ///< (q, n_objectives) posterior mean and sd of f, natural units
  Eigen::VectorXd p_feasible;   ///< (q) predicted success probability (1 when no experiment failed)
  std::string method;           ///< e.g. "logei + kriging believer", "random (fewer than 2 results)"
  std::vector<Hyperparameters> models;  ///< fitted hyperparameters per objective (model units)
  std::vector<double> log_marginal_likelihood;  ///< per objective
};

struct PoolSuggestion {
  std::vector<std::size_t> indices;  ///< (q) rows of the pool, never a measured or pending row
  Eigen::VectorXd acquisition;       ///< (q)
  Eigen::MatrixXd mean, sd;          ///< (q, n_objectives) natural units
  std::string method;
};

class Optimizer {
 public:
  Optimizer(Space space, OptimizerOptions options = {});
  const Space& space() const noexcept { return space_; }
  const OptimizerOptions& options() const noexcept { return options_; }

  /// Next `batch` points (batch >= 1). Fewer than 2 successful observations -> Latin-hypercube-like random
  /// feasible points. Shapes are checked (InvalidArgument naming the array); NaN in X is refused; a Y row that is
  /// only partly NaN is refused (either all objectives were measured or the experiment failed).
  Suggestion suggest(const Observations& data, int batch) const;

  /// Pool-based: choose `batch` rows of `pool` (m, n_parameters natural) not in `measured` or `pending`. Y holds
  /// the objective values of the measured rows (measured.size(), n_objectives). Throws InvalidArgument when fewer
  /// than `batch` rows are left.
  PoolSuggestion suggest_pool(const Eigen::MatrixXd& pool, const std::vector<std::size_t>& measured,
                              const Eigen::MatrixXd& Y, int batch,
                              const std::vector<std::size_t>& pending = {}) const;

 private:
  Space space_;
  OptimizerOptions options_;
};

/// Rows of Y (n, k) not dominated by any other row (maximisation in every column), ascending. Duplicate rows are
/// all kept.
std::vector<std::size_t> pareto_front(const Eigen::MatrixXd& Y);
/// Exact hypervolume dominated by the rows of `points` (n, k) and bounded below by `reference` (k), maximisation.
/// Rows not strictly better than the reference in every column contribute nothing. k = 1, 2 by sorting; k >= 3
/// by recursive slicing (exponential in k, fine for the k <= 4 objectives of experiments).
double hypervolume(const Eigen::MatrixXd& points, const Eigen::VectorXd& reference);

}  // namespace tsunagu::bayesopt
