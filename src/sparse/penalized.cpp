#include "tsunagu/sparse/penalized.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "tsunagu/core/error.hpp"

namespace tsunagu::sparse {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Penalty value P(t; l1, γ) for t >= 0 (without the ridge part).
double penalty_value(Penalty pen, double t, double l1, double gamma) {
  switch (pen) {
    case Penalty::Lasso: return l1 * t;
    case Penalty::MCP: return t <= gamma * l1 ? l1 * t - t * t / (2 * gamma) : 0.5 * gamma * l1 * l1;
    case Penalty::SCAD:
      if (t <= l1) return l1 * t;
      if (t <= gamma * l1) return (2 * gamma * l1 * t - t * t - l1 * l1) / (2 * (gamma - 1));
      return 0.5 * l1 * l1 * (gamma + 1);
  }
  return 0;
}

// dP/dt for t > 0.
double penalty_derivative(Penalty pen, double t, double l1, double gamma) {
  switch (pen) {
    case Penalty::Lasso: return l1;
    case Penalty::MCP: return std::max(l1 - t / gamma, 0.0);
    case Penalty::SCAD:
      if (t <= l1) return l1;
      if (t <= gamma * l1) return (gamma * l1 - t) / (gamma - 1);
      return 0;
  }
  return 0;
}

double soft(double u, double l) {
  if (u > l) return u - l;
  if (u < -l) return u + l;
  return 0;
}

void require_finite(const MatrixXd& X, const VectorXd& y) {
  for (Index j = 0; j < X.cols(); ++j)
    for (Index i = 0; i < X.rows(); ++i)
      if (!std::isfinite(X(i, j)))
        throw InvalidArgument("X: non-finite value " + fmt(X(i, j)) + " at row " + std::to_string(i) +
                              ", column " + std::to_string(j));
  for (Index i = 0; i < y.size(); ++i)
    if (!std::isfinite(y(i)))
      throw InvalidArgument("y: non-finite value " + fmt(y(i)) + " at row " + std::to_string(i));
}

// Standardised problem shared by the two families.
struct Standardised {
  MatrixXd Xs;                 // (n, q) kept columns, centred, scaled to population SD 1
  std::vector<Index> kept;     // (q) original column of each kept column
  VectorXd center, scale;      // (p)
  VectorXd pf;                 // (q)
  std::vector<std::size_t> dropped;
};

Standardised standardise(const MatrixXd& X, const std::vector<double>& pf_in) {
  const Index n = X.rows(), p = X.cols();
  Standardised s;
  s.center = X.colwise().mean().transpose();
  s.scale.resize(p);
  for (Index j = 0; j < p; ++j) {
    const double sd = std::sqrt((X.col(j).array() - s.center(j)).square().sum() / static_cast<double>(n));
    // A column constant up to rounding carries no information; scaling it would amplify noise.
    const bool constant = !(sd > 1e-12 * std::max(1.0, std::abs(s.center(j))));
    s.scale(j) = constant ? 0.0 : sd;
    if (constant) s.dropped.push_back(static_cast<std::size_t>(j));
    else s.kept.push_back(j);
  }
  const Index q = static_cast<Index>(s.kept.size());
  s.Xs.resize(n, q);
  s.pf.resize(q);
  for (Index k = 0; k < q; ++k) {
    const Index j = s.kept[static_cast<std::size_t>(k)];
    s.Xs.col(k) = (X.col(j).array() - s.center(j)) / s.scale(j);
    s.pf(k) = pf_in.empty() ? 1.0 : pf_in[static_cast<std::size_t>(j)];
  }
  return s;
}

VectorXd make_lambda_path(double lambda_max, const PathOptions& o, std::size_t n, std::size_t p) {
  if (!o.lambda.empty()) return Eigen::Map<const VectorXd>(o.lambda.data(), static_cast<Index>(o.lambda.size()));
  const double ratio = std::isnan(o.lambda_min_ratio) ? (n > p ? 0.001 : 0.05) : o.lambda_min_ratio;
  VectorXd lam(o.nlambda);
  const double a = std::log(lambda_max), b = std::log(lambda_max * ratio);
  for (int k = 0; k < o.nlambda; ++k) lam(k) = std::exp(a + (b - a) * k / (o.nlambda - 1));
  lam(0) = lambda_max;
  return lam;
}

// Per-λ bookkeeping common to both solvers.
struct PathState {
  std::vector<VectorXd> betas;  // standardised, (q) each
  std::vector<double> b0;       // standardised intercept
  std::vector<double> loss;
  std::vector<int> iters, df;
  std::vector<bool> conv;
  std::string status = "converged", message;
};

// Sequential strong rule (Tibshirani et al. 2012): keep j if unpenalised, already nonzero, or
// |g_j| >= α·pf_j·(2λ_k − λ_{k−1}), where g is the gradient (x_j'r/n) at the previous solution.
void strong_set(std::vector<char>& strong, const VectorXd& g, const VectorXd& beta, const VectorXd& pf, double alpha,
                double lam, double lam_prev) {
  const double cut = 2 * lam - lam_prev;
  for (Index j = 0; j < g.size(); ++j)
    strong[static_cast<std::size_t>(j)] = pf(j) == 0 || beta(j) != 0 || std::abs(g(j)) >= alpha * pf(j) * cut;
}

// λ_max = max over penalised j of |g_j| / (α pf_j): the smallest λ at which every penalised coefficient is zero.
double lambda_max(const VectorXd& g, const VectorXd& pf, double alpha) {
  double lmax = 0;
  for (Index j = 0; j < g.size(); ++j)
    if (pf(j) > 0) lmax = std::max(lmax, std::abs(g(j)) / (alpha * pf(j)));
  return lmax;
}

// KKT check on the features the strong rule discarded: those with |g_j| > λα pf_j join the strong set.
// Returns whether any did.
bool add_kkt_violators(std::vector<char>& strong, const VectorXd& g, const VectorXd& pf, double alpha, double lam) {
  bool violated = false;
  for (Index j = 0; j < g.size(); ++j) {
    auto& s = strong[static_cast<std::size_t>(j)];
    if (!s && std::abs(g(j)) > lam * alpha * pf(j)) {
      s = 1;
      violated = true;
    }
  }
  return violated;
}

// ---------------------------------------------------------------------------------------------------------------
// Gaussian: coordinate descent with strong rules and KKT checks. Two interchangeable ways to get the partial
// residual correlation z_j: "naive" keeps the residual r (O(n) per visit; best when n <= q) and "covariance" keeps
// the gradient g = X'r/n updated with cached Gram columns (O(q) per change, O(1) per visit; best when n > q).
class GaussianSolver {
 public:
  GaussianSolver(const MatrixXd& Xs, const VectorXd& yc, const VectorXd& pf, const PathOptions& o, double gamma)
      : X_(Xs), y_(yc), pf_(pf), o_(o), gamma_(gamma), n_(Xs.rows()), q_(Xs.cols()) {
    cov_ = n_ > q_;
    beta_ = VectorXd::Zero(q_);
    r_ = y_;
    g_ = X_.transpose() * r_ / static_cast<double>(n_);
    if (cov_) {
      c0_ = g_;
      yy_n_ = y_.squaredNorm() / static_cast<double>(n_);
      if (q_ <= kFullGramMax) {
        // One blocked symmetric product (BLAS-3 speed, half the flops) instead of up to q memory-bound
        // matrix-vector products as features enter: along a full path nearly every column is needed anyway.
        full_gram_.setZero(q_, q_);
        full_gram_.selfadjointView<Eigen::Lower>().rankUpdate(X_.transpose(), 1.0 / static_cast<double>(n_));
        full_gram_.triangularView<Eigen::StrictlyUpper>() = full_gram_.transpose();
      } else {
        gram_.resize(static_cast<std::size_t>(q_));
      }
    }
    strong_.assign(static_cast<std::size_t>(q_), 0);
  }

  // Fit unpenalised columns (pf = 0) with every penalised column held at zero; returns λ_max.
  double init_unpenalised() {
    bool any_unpen = false;
    for (Index j = 0; j < q_; ++j) any_unpen |= pf_(j) == 0;
    if (any_unpen) {
      std::vector<Index> set;
      for (Index j = 0; j < q_; ++j)
        if (pf_(j) == 0) set.push_back(j);
      for (int it = 0; it < 100000; ++it) {
        double m = 0;
        for (Index j : set) m = std::max(m, update(j, 0, 0));
        if (m < 1e-3 * tol()) break;
      }
      refresh_gradient();
    }
    return lambda_max(g_, pf_, o_.alpha);
  }

  void set_tol(double t) { tol_ = t; }
  double tol() const { return tol_; }

  // Solve at λ (previous λ for the strong rule). Returns sweeps used; sets converged.
  int solve(double lam, double lam_prev, int budget, bool& converged) {
    strong_set(strong_, g_, beta_, pf_, o_.alpha, lam, lam_prev);
    int sweeps = 0;
    converged = false;
    for (;;) {
      std::vector<Index> sset;
      for (Index j = 0; j < q_; ++j)
        if (strong_[static_cast<std::size_t>(j)]) sset.push_back(j);
      for (;;) {
        if (sweeps >= budget) return sweeps;
        ++sweeps;
        double m = 0;
        for (Index j : sset) m = std::max(m, update(j, lam * o_.alpha * pf_(j), lam * (1 - o_.alpha) * pf_(j)));
        if (m < tol_) break;
        std::vector<Index> active;
        for (Index j : sset)
          if (beta_(j) != 0) active.push_back(j);
        if (!cov_ && static_cast<Index>(active.size()) < n_) {
          if (!cycle_active_gram(active, lam, budget, sweeps)) return sweeps;
        } else {
          for (;;) {
            if (sweeps >= budget) return sweeps;
            ++sweeps;
            double ma = 0;
            for (Index j : active)
              ma = std::max(ma, update(j, lam * o_.alpha * pf_(j), lam * (1 - o_.alpha) * pf_(j)));
            if (ma < tol_) break;
          }
        }
      }
      if (!cov_) g_.noalias() = X_.transpose() * r_ / static_cast<double>(n_);
      if (!add_kkt_violators(strong_, g_, pf_, o_.alpha, lam)) break;
    }
    converged = true;
    return sweeps;
  }

  const VectorXd& beta() const { return beta_; }
  double loss() const {
    if (!cov_) return r_.squaredNorm() / (2.0 * static_cast<double>(n_));
    double s = yy_n_;
    for (Index j = 0; j < q_; ++j)
      if (beta_(j) != 0) s -= beta_(j) * (c0_(j) + g_(j));
    return std::max(s, 0.0) / 2;
  }
  int df() const {
    int d = 0;
    for (Index j = 0; j < q_; ++j) d += (beta_(j) != 0 && pf_(j) > 0);
    return d;
  }

 private:
  // Cycle the active set A to convergence with "covariance" updates on A alone (naive mode, |A| < n): the partial
  // residual correlations g_A come from the Gram matrix of A, so a visit costs O(1) and a change O(|A|) instead of
  // O(n) each; the residual is brought up to date once at the end. Gram entries are cached for every feature that
  // was ever active (rows/columns appended as features enter), so building G_AA is a gather, not a product.
  // Returns false if the sweep budget ran out.
  bool cycle_active_gram(const std::vector<Index>& A, double lam, int budget, int& sweeps) {
    const Index a = static_cast<Index>(A.size());
    if (a == 0) return true;
    for (Index j : A) ensure_gram(j);
    MatrixXd GA(a, a);
    VectorXd gA(a), b0(a);
    const double nd = static_cast<double>(n_);
    for (Index m = 0; m < a; ++m) {
      const Index pm = pos_[static_cast<std::size_t>(A[static_cast<std::size_t>(m)])];
      for (Index k = 0; k < a; ++k) GA(k, m) = GE_(pos_[static_cast<std::size_t>(A[static_cast<std::size_t>(k)])], pm);
      gA(m) = X_.col(A[static_cast<std::size_t>(m)]).dot(r_) / nd;
      b0(m) = beta_(A[static_cast<std::size_t>(m)]);
    }
    bool ok = true;
    for (;;) {
      if (sweeps >= budget) {
        ok = false;
        break;
      }
      ++sweeps;
      double ma = 0;
      for (Index m = 0; m < a; ++m) {
        const Index j = A[static_cast<std::size_t>(m)];
        const double b = threshold(o_.penalty, gA(m) + beta_(j), 1.0, lam * o_.alpha * pf_(j),
                                   lam * (1 - o_.alpha) * pf_(j), gamma_);
        const double d = b - beta_(j);
        if (d == 0) continue;
        beta_(j) = b;
        gA.noalias() -= d * GA.col(m);
        ma = std::max(ma, std::abs(d));
      }
      if (ma < tol_) break;
    }
    for (Index m = 0; m < a; ++m) {
      const double d = beta_(A[static_cast<std::size_t>(m)]) - b0(m);
      if (d != 0) r_.noalias() -= d * X_.col(A[static_cast<std::size_t>(m)]);
    }
    return ok;
  }

  // Append feature j to the cached Gram matrix of ever-active features (O(n·|E|)).
  void ensure_gram(Index j) {
    if (pos_.empty()) pos_.assign(static_cast<std::size_t>(q_), -1);
    if (pos_[static_cast<std::size_t>(j)] >= 0) return;
    const Index k = static_cast<Index>(E_.size());
    if (k >= GE_.rows()) {
      const Index cap = std::max<Index>(16, 2 * GE_.rows());
      MatrixXd bigger(cap, cap);
      bigger.topLeftCorner(k, k) = GE_.topLeftCorner(k, k);
      GE_.swap(bigger);
    }
    const double nd = static_cast<double>(n_);
    for (Index m = 0; m < k; ++m) {
      const double v = X_.col(E_[static_cast<std::size_t>(m)]).dot(X_.col(j)) / nd;
      GE_(m, k) = v;
      GE_(k, m) = v;
    }
    GE_(k, k) = X_.col(j).squaredNorm() / nd;
    E_.push_back(j);
    pos_[static_cast<std::size_t>(j)] = k;
  }

  // One coordinate update; returns |Δβ_j|.
  double update(Index j, double l1, double l2) {
    const double z =
        cov_ ? g_(j) + beta_(j) : X_.col(j).dot(r_) / static_cast<double>(n_) + beta_(j);
    const double b = threshold(o_.penalty, z, 1.0, l1, l2, gamma_);
    const double d = b - beta_(j);
    if (d == 0) return 0;
    beta_(j) = b;
    if (cov_ && full_gram_.size()) {
      g_.noalias() -= d * full_gram_.col(j);
    } else if (cov_) {
      auto& col = gram_[static_cast<std::size_t>(j)];
      if (col.size() == 0) col = X_.transpose() * X_.col(j) / static_cast<double>(n_);
      g_.noalias() -= d * col;
    } else {
      r_.noalias() -= d * X_.col(j);
    }
    return std::abs(d);
  }
  void refresh_gradient() {
    r_ = y_ - X_ * beta_;
    g_.noalias() = X_.transpose() * r_ / static_cast<double>(n_);
  }

  const MatrixXd& X_;
  const VectorXd& y_;
  const VectorXd& pf_;
  const PathOptions& o_;
  double gamma_;
  Index n_, q_;
  bool cov_ = false;
  double tol_ = 1e-4, yy_n_ = 0;
  VectorXd beta_, r_, g_, c0_;
  std::vector<VectorXd> gram_;  // lazily computed Gram columns when q is too large for full_gram_
  MatrixXd full_gram_;          // X'X/n, (q, q), when q <= kFullGramMax
  std::vector<Index> E_;        // naive mode: features that were ever active, in order of entry
  std::vector<Index> pos_;      // (q) position of a feature in E_, or -1
  MatrixXd GE_;                 // Gram matrix of E_ (capacity grows by doubling)
  static constexpr Index kFullGramMax = 2048;
  std::vector<char> strong_;
};

// ---------------------------------------------------------------------------------------------------------------
// Binomial: iteratively reweighted coordinate descent (weights refreshed every sweep, as in ncvreg/glmnet), each
// coordinate minimising its local quadratic model exactly with threshold().
class BinomialSolver {
 public:
  BinomialSolver(const MatrixXd& Xs, const VectorXd& y, const VectorXd& pf, const PathOptions& o, double gamma)
      : X_(Xs), y_(y), pf_(pf), o_(o), gamma_(gamma), n_(Xs.rows()), q_(Xs.cols()) {
    const double ybar = y_.mean();
    b0_ = std::log(ybar / (1 - ybar));
    beta_ = VectorXd::Zero(q_);
    eta_ = VectorXd::Constant(n_, b0_);
    strong_.assign(static_cast<std::size_t>(q_), 0);
    null_dev_ = deviance();
  }

  double init_unpenalised() {
    bool any = false;
    for (Index j = 0; j < q_; ++j) {
      strong_[static_cast<std::size_t>(j)] = pf_(j) == 0;
      any |= pf_(j) == 0;
    }
    if (any) {
      bool c = false;
      iterate(std::numeric_limits<double>::infinity(), 100000, c);
    }
    gradient();
    return lambda_max(g_, pf_, o_.alpha);
  }
  void set_tol(double t) { tol_ = t; }

  int solve(double lam, double lam_prev, int budget, bool& converged) {
    strong_set(strong_, g_, beta_, pf_, o_.alpha, lam, lam_prev);
    int sweeps = 0;
    converged = false;
    for (;;) {
      bool c = false;
      sweeps += iterate(lam, budget - sweeps, c);
      if (!c) return sweeps;
      gradient();
      if (!add_kkt_violators(strong_, g_, pf_, o_.alpha, lam)) break;
    }
    converged = true;
    return sweeps;
  }

  double deviance() const {
    double d = 0;
    for (Index i = 0; i < n_; ++i) {
      const double e = eta_(i);
      // log(1 + exp(e)) computed stably
      const double l1pe = e > 0 ? e + std::log1p(std::exp(-e)) : std::log1p(std::exp(e));
      d += 2 * (l1pe - y_(i) * e);
    }
    return d;
  }
  double null_deviance() const { return null_dev_; }
  const VectorXd& beta() const { return beta_; }
  double b0() const { return b0_; }
  int df() const {
    int d = 0;
    for (Index j = 0; j < q_; ++j) d += (beta_(j) != 0 && pf_(j) > 0);
    return d;
  }

 private:
  void gradient() {
    VectorXd res(n_);
    for (Index i = 0; i < n_; ++i) res(i) = y_(i) - 1 / (1 + std::exp(-eta_(i)));
    g_.noalias() = X_.transpose() * res / static_cast<double>(n_);
  }

  // One sweep = weights refreshed (IRLS), intercept, then every strong coordinate minimising its local quadratic
  // model u·b − (v/2)b² with v_j = x_j'Wx_j/n. Where MCP/SCAD would make that univariate problem nonconvex
  // (v_j + l2 <= 1/γ, resp. 1/(γ−1): fitted probabilities near 0/1) v_j is raised just enough to keep it convex —
  // a damped step that leaves the fixed points (the KKT points) unchanged; unmodified IRLS oscillates there.
  int iterate(double lam, int budget, bool& converged) {
    converged = false;
    const double nd = static_cast<double>(n_);
    VectorXd w(n_), z(n_);
    const double vmin = o_.penalty == Penalty::MCP ? 1 / gamma_ : (o_.penalty == Penalty::SCAD ? 1 / (gamma_ - 1) : 0.0);
    int sweeps = 0;
    while (sweeps < budget) {
      ++sweeps;
      for (Index i = 0; i < n_; ++i) {
        const double pi = 1 / (1 + std::exp(-eta_(i)));
        w(i) = std::max(pi * (1 - pi), 1e-5);  // floor keeps z finite for saturated fits
        z(i) = (y_(i) - pi) / w(i);
      }
      const double d0 = w.dot(z) / w.sum();
      b0_ += d0;
      z.array() -= d0;
      eta_.array() += d0;
      double m = std::abs(d0);
      for (Index j = 0; j < q_; ++j) {
        if (!strong_[static_cast<std::size_t>(j)]) continue;
        const auto xj = X_.col(j);
        const double l1 = std::isinf(lam) ? (pf_(j) > 0 ? lam : 0.0) : lam * o_.alpha * pf_(j);
        const double l2 = std::isinf(lam) ? 0.0 : lam * (1 - o_.alpha) * pf_(j);
        double v = (xj.array().square() * w.array()).sum() / nd;
        if (v + l2 <= vmin * 1.0001) v = vmin * 1.0001 - l2;
        const double u = (xj.array() * w.array() * z.array()).sum() / nd + v * beta_(j);
        const double b = std::isinf(l1) ? 0.0 : threshold(o_.penalty, u, v, l1, l2, gamma_);
        const double d = b - beta_(j);
        if (d != 0) {
          beta_(j) = b;
          z.noalias() -= d * xj;
          eta_.noalias() += d * xj;
          m = std::max(m, std::abs(d));
        }
      }
      if (m < tol_) {
        converged = true;
        break;
      }
      // Separable data: coefficients grow without bound; stop once the fit is saturated (checked by run_path).
      if (deviance() < 0.01 * null_dev_) {
        converged = true;
        break;
      }
    }
    return sweeps;
  }

  const MatrixXd& X_;
  const VectorXd& y_;
  const VectorXd& pf_;
  const PathOptions& o_;
  double gamma_;
  Index n_, q_;
  double b0_ = 0, tol_ = 1e-4, null_dev_ = 0;
  VectorXd beta_, eta_, g_;
  std::vector<char> strong_;
};

template <class Solver>
void run_path(Solver& solver, const VectorXd& lam, const PathOptions& o, PathState& st, bool binomial) {
  int used = 0;
  for (Index k = 0; k < lam.size(); ++k) {
    bool conv = true;
    int it = 0;
    if (k > 0 || !o.lambda.empty()) {
      const double prev = k > 0 ? lam(k - 1) : lam(0);
      it = solver.solve(lam(k), prev, o.max_iter - used, conv);
    }
    used += it;
    st.betas.push_back(solver.beta());
    st.iters.push_back(it);
    st.conv.push_back(conv);
    st.df.push_back(solver.df());
    if constexpr (std::is_same_v<Solver, BinomialSolver>) {
      st.b0.push_back(solver.b0());
      st.loss.push_back(solver.deviance());
    } else {
      st.b0.push_back(0.0);
      st.loss.push_back(solver.loss());
    }
    if (!conv) {
      st.status = "max_iter";
      st.message = "max_iter (" + std::to_string(o.max_iter) + " sweeps over the path) reached at lambda index " +
                   std::to_string(k) + "; raise max_iter or eps";
      break;
    }
    if (o.dfmax >= 0 && st.df.back() > o.dfmax) {
      st.status = "truncated_dfmax";
      st.message = "path stopped at lambda index " + std::to_string(k) + ": " + std::to_string(st.df.back()) +
                   " nonzero coefficients exceed dfmax = " + std::to_string(o.dfmax);
      break;
    }
    if constexpr (std::is_same_v<Solver, BinomialSolver>) {
      if (binomial && solver.deviance() < 0.01 * solver.null_deviance()) {
        st.status = "saturated";
        st.message = "path stopped at lambda index " + std::to_string(k) +
                     ": model saturated (deviance < 1% of null deviance)";
        break;
      }
    }
  }
}

}  // namespace

std::string to_string(Penalty p) {
  switch (p) {
    case Penalty::Lasso: return "lasso";
    case Penalty::MCP: return "mcp";
    case Penalty::SCAD: return "scad";
  }
  return "?";
}
std::string to_string(Family f) { return f == Family::Gaussian ? "gaussian" : "binomial"; }

Penalty parse_penalty(std::string_view name) {
  const auto s = lower(name);
  if (s == "lasso") return Penalty::Lasso;
  if (s == "mcp") return Penalty::MCP;
  if (s == "scad") return Penalty::SCAD;
  throw InvalidArgument("penalty: unknown value '" + std::string(name) + "' (expected mcp, scad or lasso)");
}
Family parse_family(std::string_view name) {
  const auto s = lower(name);
  if (s == "gaussian") return Family::Gaussian;
  if (s == "binomial") return Family::Binomial;
  throw InvalidArgument("family: unknown value '" + std::string(name) + "' (expected gaussian or binomial)");
}

double PathOptions::resolved_gamma() const {
  if (!std::isnan(gamma)) return gamma;
  return penalty == Penalty::SCAD ? 3.7 : 3.0;
}

void PathOptions::validate(std::size_t n, std::size_t p) const {
  const double g = resolved_gamma();
  if (penalty == Penalty::MCP && !(g > 1))
    throw InvalidArgument("gamma: must be > 1 for MCP (got " + fmt(g) + ")");
  if (penalty == Penalty::SCAD && !(g > 2))
    throw InvalidArgument("gamma: must be > 2 for SCAD (got " + fmt(g) + ")");
  if (!(alpha > 0 && alpha <= 1)) throw InvalidArgument("alpha: must be in (0, 1] (got " + fmt(alpha) + ")");
  if (lambda.empty() && nlambda < 2) throw InvalidArgument("nlambda: must be >= 2 (got " + std::to_string(nlambda) + ")");
  if (!std::isnan(lambda_min_ratio) && !(lambda_min_ratio > 0 && lambda_min_ratio < 1))
    throw InvalidArgument("lambda_min_ratio: must be in (0, 1) (got " + fmt(lambda_min_ratio) + ")");
  for (std::size_t k = 0; k < lambda.size(); ++k) {
    if (!(lambda[k] > 0) || !std::isfinite(lambda[k]))
      throw InvalidArgument("lambda: values must be finite and > 0 (got " + fmt(lambda[k]) + " at index " +
                            std::to_string(k) + ")");
    if (k > 0 && !(lambda[k] < lambda[k - 1]))
      throw InvalidArgument("lambda: must be strictly decreasing (index " + std::to_string(k) + ")");
  }
  if (!(eps > 0) || !std::isfinite(eps)) throw InvalidArgument("eps: must be > 0 (got " + fmt(eps) + ")");
  if (max_iter < 1) throw InvalidArgument("max_iter: must be >= 1 (got " + std::to_string(max_iter) + ")");
  if (dfmax < -1) throw InvalidArgument("dfmax: must be >= 0, or -1 for no limit (got " + std::to_string(dfmax) + ")");
  if (!penalty_factor.empty()) {
    if (penalty_factor.size() != p)
      throw InvalidArgument("penalty_factor: has " + std::to_string(penalty_factor.size()) + " entries for " +
                            std::to_string(p) + " features");
    bool any = false;
    for (std::size_t j = 0; j < p; ++j) {
      if (!(penalty_factor[j] >= 0) || !std::isfinite(penalty_factor[j]))
        throw InvalidArgument("penalty_factor: entry " + std::to_string(j) + " must be finite and >= 0 (got " +
                              fmt(penalty_factor[j]) + ")");
      any |= penalty_factor[j] > 0;
    }
    if (!any) throw InvalidArgument("penalty_factor: at least one feature must be penalised (all are 0)");
  }
  if (n < 3) throw InvalidArgument("data: need at least 3 rows (got " + std::to_string(n) + ")");
  if (p < 1) throw InvalidArgument("data: need at least 1 feature column");
}

double threshold(Penalty pen, double u, double v, double l1, double l2, double gamma) {
  const double a = v + l2;  // curvature of the smooth part
  if (l1 == 0) return u / a;
  const double au = std::abs(u), s = u > 0 ? 1.0 : -1.0;
  if (au <= l1) {
    // 0 is the minimiser whenever the 1-D problem is convex; for nonconvex cases fall through to the search.
    if (pen == Penalty::Lasso) return 0;
    if (pen == Penalty::MCP && a > 1 / gamma) return 0;
    if (pen == Penalty::SCAD && a > 1 / (gamma - 1)) return 0;
  }
  switch (pen) {
    case Penalty::Lasso: return soft(u, l1) / a;
    case Penalty::MCP:
      if (a > 1 / gamma) {
        if (au <= gamma * l1 * a) return s * (au - l1) / (a - 1 / gamma);
        return u / a;
      }
      break;
    case Penalty::SCAD:
      if (a > 1 / (gamma - 1)) {
        if (au <= l1 * (1 + a)) return s * (au - l1) / a;
        if (au <= gamma * l1 * a) return s * (au - gamma * l1 / (gamma - 1)) / (a - 1 / (gamma - 1));
        return u / a;
      }
      break;
  }
  // Nonconvex univariate problem (small curvature, e.g. binomial weights): compare all stationary/boundary
  // candidates on the sign of u and keep the global minimiser.
  auto f = [&](double b) { return 0.5 * a * b * b - u * b + penalty_value(pen, std::abs(b), l1, gamma); };
  double best = 0, fbest = 0;
  auto consider = [&](double b) {
    const double fb = f(b);
    if (fb < fbest - 1e-300) {
      fbest = fb;
      best = b;
    }
  };
  consider(s * l1);
  consider(s * gamma * l1);
  if (au > gamma * l1 * a) consider(u / a);
  if (pen == Penalty::SCAD) {
    const double bA = soft(u, l1) / a;
    if (std::abs(bA) <= l1) consider(bA);
  }
  return best;
}

Path fit_path(const MatrixXd& X, const VectorXd& y, const PathOptions& o) {
  const auto n = static_cast<std::size_t>(X.rows()), p = static_cast<std::size_t>(X.cols());
  if (static_cast<std::size_t>(y.size()) != n)
    throw InvalidArgument("y: has " + std::to_string(y.size()) + " rows but X has " + std::to_string(n));
  o.validate(n, p);
  require_finite(X, y);
  const double gamma = o.resolved_gamma();

  Path path;
  path.family = o.family;
  path.penalty = o.penalty;
  path.gamma = gamma;
  path.alpha = o.alpha;
  path.y_mean = y.mean();
  path.y_sd = std::sqrt((y.array() - path.y_mean).square().mean());
  if (o.family == Family::Binomial) {
    for (Index i = 0; i < y.size(); ++i)
      if (y(i) != 0 && y(i) != 1)
        throw InvalidArgument("y: binomial family needs 0/1 outcomes (got " + fmt(y(i)) + " at row " +
                              std::to_string(i) + ")");
    if (path.y_mean == 0 || path.y_mean == 1) throw InvalidArgument("y: binomial outcome has only one class");
  } else if (!(path.y_sd > 0)) {
    throw InvalidArgument("y: the response is constant (standard deviation 0)");
  }

  Standardised s = standardise(X, o.penalty_factor);
  path.center = s.center;
  path.scale = s.scale;
  path.penalty_factor = VectorXd::Ones(static_cast<Index>(p));
  if (!o.penalty_factor.empty())
    path.penalty_factor = Eigen::Map<const VectorXd>(o.penalty_factor.data(), static_cast<Index>(p));
  path.dropped_constant = s.dropped;
  if (o.warn)
    for (auto j : s.dropped)
      path.warnings.push_back("column " + std::to_string(j) + " is constant and was dropped (coefficient 0)");
  if (s.kept.empty()) throw InvalidArgument("X: every feature column is constant");
  bool any_pen = false;
  for (Index k = 0; k < s.pf.size(); ++k) any_pen |= s.pf(k) > 0;
  if (!any_pen) throw InvalidArgument("penalty_factor: every non-constant feature is unpenalised (pf = 0)");

  PathState st;
  VectorXd lam;
  if (o.family == Family::Gaussian) {
    const VectorXd yc = y.array() - path.y_mean;
    GaussianSolver solver(s.Xs, yc, s.pf, o, gamma);
    solver.set_tol(o.eps * path.y_sd);
    const double lmax = solver.init_unpenalised();
    if (!(lmax > 0) && o.lambda.empty())
      throw NumericalError("lambda_max is 0: y is uncorrelated with every penalised feature");
    lam = make_lambda_path(lmax, o, n, p);
    run_path(solver, lam, o, st, false);
  } else {
    BinomialSolver solver(s.Xs, y, s.pf, o, gamma);
    solver.set_tol(o.eps);
    const double lmax = solver.init_unpenalised();
    if (!(lmax > 0) && o.lambda.empty())
      throw NumericalError("lambda_max is 0: y is uncorrelated with every penalised feature");
    lam = make_lambda_path(lmax, o, n, p);
    run_path(solver, lam, o, st, true);
  }

  const Index L = static_cast<Index>(st.betas.size());
  path.lambda = lam.head(L);
  path.beta = MatrixXd::Zero(static_cast<Index>(p), L);
  path.beta_std = MatrixXd::Zero(static_cast<Index>(p), L);
  path.intercept.resize(L);
  path.intercept_std.resize(L);
  path.loss.resize(L);
  for (Index k = 0; k < L; ++k) {
    const auto& b = st.betas[static_cast<std::size_t>(k)];
    double b0 = (o.family == Family::Gaussian ? path.y_mean : 0.0) + st.b0[static_cast<std::size_t>(k)];
    for (Index m = 0; m < b.size(); ++m) {
      const Index j = s.kept[static_cast<std::size_t>(m)];
      path.beta_std(j, k) = b(m);
      path.beta(j, k) = b(m) / s.scale(j);
      b0 -= path.beta(j, k) * s.center(j);
    }
    path.intercept(k) = b0;
    path.intercept_std(k) = st.b0[static_cast<std::size_t>(k)];
    path.loss(k) = o.family == Family::Gaussian ? st.loss[static_cast<std::size_t>(k)]
                                                : st.loss[static_cast<std::size_t>(k)] / (2.0 * static_cast<double>(n));
  }
  path.df = st.df;
  path.iterations = st.iters;
  path.converged = st.conv;
  path.status = st.status;
  path.message = st.message.empty() ? "converged at all " + std::to_string(L) + " lambda values" : st.message;
  if (o.warn && st.status != "converged") path.warnings.push_back(st.message);
  return path;
}

MatrixXd Path::linear_predictor(const MatrixXd& X) const {
  if (static_cast<std::size_t>(X.cols()) != n_features())
    throw InvalidArgument("X: has " + std::to_string(X.cols()) + " columns but the model has " +
                          std::to_string(n_features()) + " features");
  MatrixXd eta = X * beta;
  eta.rowwise() += intercept.transpose();
  return eta;
}

MatrixXd Path::predict(const MatrixXd& X) const {
  MatrixXd eta = linear_predictor(X);
  if (family == Family::Binomial) eta = (1.0 / (1.0 + (-eta.array()).exp())).matrix();
  return eta;
}

std::size_t Path::nearest_lambda(double value) const {
  if (!(value > 0)) throw InvalidArgument("lambda: must be > 0 (got " + fmt(value) + ")");
  std::size_t best = 0;
  double d = std::numeric_limits<double>::infinity();
  for (Index k = 0; k < lambda.size(); ++k) {
    const double dk = std::abs(std::log(lambda(k)) - std::log(value));
    if (dk < d) {
      d = dk;
      best = static_cast<std::size_t>(k);
    }
  }
  return best;
}

VectorXd kkt_violation(const Path& path, const MatrixXd& X, const VectorXd& y) {
  const Index n = X.rows(), p = X.cols(), L = path.lambda.size();
  if (static_cast<std::size_t>(p) != path.n_features() || y.size() != n)
    throw InvalidArgument("kkt_violation: X/y shape does not match the path");
  MatrixXd Xs = MatrixXd::Zero(n, p);
  for (Index j = 0; j < p; ++j)
    if (path.scale(j) > 0) Xs.col(j) = (X.col(j).array() - path.center(j)) / path.scale(j);
  VectorXd out(L);
  const double nd = static_cast<double>(n);
  for (Index k = 0; k < L; ++k) {
    const double lam = path.lambda(k);
    VectorXd eta = Xs * path.beta_std.col(k);
    VectorXd res(n);
    if (path.family == Family::Gaussian) {
      res = (y.array() - path.y_mean).matrix() - eta;
    } else {
      for (Index i = 0; i < n; ++i) res(i) = y(i) - 1 / (1 + std::exp(-(eta(i) + path.intercept_std(k))));
    }
    const VectorXd g = Xs.transpose() * res / nd;
    double worst = 0;
    if (path.family == Family::Binomial) worst = std::abs(res.sum() / nd);  // intercept stationarity
    for (Index j = 0; j < p; ++j) {
      if (path.scale(j) == 0) continue;
      const double pf = path.penalty_factor(j);
      const double l1 = lam * path.alpha * pf, l2 = lam * (1 - path.alpha) * pf;
      const double b = path.beta_std(j, k);
      double v;
      if (b != 0) {
        const double sign = b > 0 ? 1.0 : -1.0;
        v = std::abs(-g(j) + sign * penalty_derivative(path.penalty, std::abs(b), l1, path.gamma) + l2 * b);
      } else {
        v = std::max(0.0, std::abs(g(j)) - l1);
      }
      worst = std::max(worst, v);
    }
    out(k) = worst;
  }
  return out;
}

}  // namespace tsunagu::sparse
