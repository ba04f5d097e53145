#pragma once
/// Input importance of trained networks (Eigen only): Garson's relative importance and Olden's connection weights
/// from the weights, permutation importance from predictions on (held-out) data, the rank agreement between two
/// importance vectors and a summary over ensemble members with an interval. Formulas and caveats: docs/nn_importance.md.
///
/// Garson and Olden read Mlp::weights(), which live in the scaled space (inputs standardised by the feature scaler,
/// regression outputs by the target scaler): they describe the effect of one standard deviation of each input.
#include <cstdint>
#include <functional>

#include <Eigen/Core>

#include "tsunagu/nn/mlp.hpp"

namespace tsunagu::nn {

/// Garson's relative importance per input and output, (n_inputs, n_outputs), non-negative. With the share matrices
/// P_l(j, i) = |W_l(j, i)| / sum_i' |W_l(j, i')| (rows sum to 1; a row of zeros stays zero) of every layer,
/// output layer included, G = P_L ... P_1 P_0 is (n_outputs, n_inputs) and the result is G^T: the share of output
/// k's absolute input that flows from input i when every unit splits its share over its inputs in proportion to the
/// absolute weights. One hidden layer (W_0 = w (H, I), W_1 = v (K, H)) gives Garson's formula
///   Q_ik = sum_j (|w_ji| / sum_i' |w_ji'|) |v_kj| / sum_i'' sum_j (|w_ji''| / sum_i' |w_ji'|) |v_kj|;
/// no hidden layer gives |W(k, i)| / sum_i' |W(k, i')|. Each column sums to 1 (0 for an output without a path of
/// non-zero weights). InvalidArgument for an empty network.
Eigen::MatrixXd garson_importance_per_output(const Mlp& net);
/// The mean of garson_importance_per_output over the outputs, (n_inputs); sums to 1 (less if an output has no path).
Eigen::VectorXd garson_importance(const Mlp& net);

/// Olden's connection-weight importance per input and output, (n_inputs, n_outputs), signed: the sum over all paths
/// input i -> output k of the product of the weights along the path, i.e. (W_L ... W_1 W_0)^T. One hidden layer:
/// C_ik = sum_j w_ji v_kj. Activations and biases are ignored. InvalidArgument for an empty network.
Eigen::MatrixXd olden_importance_per_output(const Mlp& net);
/// The mean of olden_importance_per_output over the outputs, (n_inputs).
Eigen::VectorXd olden_importance(const Mlp& net);

/// Loss whose increase permutation importance measures.
enum class PermutationLoss {
  Auto,         ///< Mlp: SquaredError for Task::Regression, LogLoss for Task::Binary; a predictor: SquaredError
  SquaredError, ///< mean over all n x m elements of (prediction - Y)^2, original units of Y
  LogLoss,      ///< -mean[y log p + (1 - y) log(1 - p)], p clamped to [1e-15, 1 - 1e-15]; one column, y in [0, 1]
};

struct PermutationOptions {
  int repeats = 10;         ///< permutations per input, >= 1
  std::uint64_t seed = 0;   ///< one core::Rng for the whole call: input 0's repeats, then input 1's, ...
  PermutationLoss loss = PermutationLoss::Auto;
  void validate() const;    ///< InvalidArgument naming the field and value
};

struct PermutationImportance {
  Eigen::VectorXd mean;        ///< (n_inputs) mean over repeats of loss(permuted column) - baseline_loss
  Eigen::VectorXd sd;          ///< (n_inputs) sample SD (n - 1) of those increases over repeats; 0 for 1 repeat
  double baseline_loss = 0.0;  ///< loss on the unpermuted (X, Y)
};

/// Predictions (n_samples, n_outputs) for inputs (n_samples, n_inputs), original units (probabilities for LogLoss).
using Predictor = std::function<Eigen::MatrixXd(const Eigen::MatrixXd&)>;

/// Permutation importance (Breiman 2001; model reliance of Fisher, Rudin & Dominici 2019, as a difference): for
/// every input column j and repeat r the rows of column j are permuted (core::permutation), the loss on (X with the
/// column permuted, Y) is computed and the baseline loss subtracted. X, Y in original units; use held-out rows to
/// measure what the model needs to generalise. The Mlp version predicts with predict_reference (float64 Eigen,
/// independent of LibTorch threads). Deterministic for a seed. InvalidArgument: empty network, X columns != inputs,
/// X/Y rows or Y columns != outputs, fewer than 2 rows, non-finite X or Y, LogLoss with Y outside [0, 1] or more
/// than one column, invalid options. A predictor returning the wrong shape: InvalidArgument; non-finite
/// predictions: NumericalError.
PermutationImportance permutation_importance(const Mlp& net, const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y,
                                             const PermutationOptions& options = {});
/// The same for any predictor (e.g. an ensemble mean), called once for the baseline and once per (input, repeat).
PermutationImportance permutation_importance(const Predictor& predict, const Eigen::MatrixXd& X,
                                             const Eigen::MatrixXd& Y, const PermutationOptions& options = {});

/// Agreement between two importance vectors: Spearman rank correlation of |a| and |b| (Pearson correlation of the
/// ranks, ties sharing their average rank), in [-1, 1]. NaN when all |a| or all |b| are tied (no ranking).
/// InvalidArgument: different lengths, fewer than 2 values, non-finite values.
double rank_agreement(const Eigen::VectorXd& a, const Eigen::VectorXd& b);

enum class IntervalMethod {
  Percentile,  ///< (1 - level)/2 and (1 + level)/2 quantiles of the member values, linear interpolation (type 7)
  StudentT,    ///< mean -/+ t_{(1 + level)/2, m - 1} sd / sqrt(m): interval for the ensemble mean; needs m >= 2
};

struct ImportanceSummary {
  Eigen::VectorXd mean, ci_low, ci_high;  ///< (n_inputs) mean over members and the interval
  Eigen::VectorXd sd;                     ///< (n_inputs) sample SD over members (0 for one member)
};

/// Summary of per-member importances (n_members, n_inputs): per input the mean over members and an interval at
/// `level` in (0, 1). Percentile (default) describes the spread of the members; StudentT the uncertainty of their
/// mean. InvalidArgument: no members or inputs, non-finite values, level outside (0, 1), StudentT with one member.
ImportanceSummary summarize_importance(const Eigen::MatrixXd& per_member, double level = 0.95,
                                       IntervalMethod method = IntervalMethod::Percentile);

/// Quantile of Student's t distribution with `dof` > 0 degrees of freedom, p in (0, 1) (used by StudentT).
double student_t_quantile(double p, double dof);

}  // namespace tsunagu::nn
