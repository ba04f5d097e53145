// Pareto front and exact hypervolume (maximisation in every column).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "tsunagu/bayesopt/optimizer.hpp"
#include "tsunagu/core/error.hpp"

namespace tsunagu::bayesopt {
namespace {

void check_finite(const Eigen::MatrixXd& Y, const char* what) {
  for (Eigen::Index i = 0; i < Y.rows(); ++i)
    if (!Y.row(i).allFinite())
      throw InvalidArgument(std::string(what) + ": row " + std::to_string(i) +
                            " has a non-finite value (drop failed experiments first)");
}

// a dominates b: a >= b everywhere and a > b somewhere.
bool dominates(const Eigen::Ref<const Eigen::RowVectorXd>& a, const Eigen::Ref<const Eigen::RowVectorXd>& b) {
  bool strictly = false;
  for (Eigen::Index j = 0; j < a.size(); ++j) {
    if (a(j) < b(j)) return false;
    if (a(j) > b(j)) strictly = true;
  }
  return strictly;
}

// Points are rows of P already strictly above the reference r in every column; P has k columns.
double hv_rec(std::vector<Eigen::VectorXd> pts, const Eigen::VectorXd& r) {
  if (pts.empty()) return 0.0;
  const Eigen::Index k = r.size();
  if (k == 1) {
    double m = pts[0](0);
    for (const auto& p : pts) m = std::max(m, p(0));
    return m - r(0);
  }
  if (k == 2) {
    // Sweep by the first coordinate, largest first: a point adds the strip of y it raises above all points with a
    // larger first coordinate.
    std::sort(pts.begin(), pts.end(), [](const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
      return a(0) > b(0) || (a(0) == b(0) && a(1) > b(1));
    });
    double hv = 0, top = r(1);
    for (const auto& p : pts) {
      if (p(1) > top) {
        hv += (p(0) - r(0)) * (p(1) - top);
        top = p(1);
      }
    }
    return hv;
  }
  // k >= 3: slice along the last coordinate (largest first); between consecutive levels the dominated region is the
  // (k-1)-dimensional hypervolume of the points at or above the slice, times the slice thickness.
  std::sort(pts.begin(), pts.end(),
            [k](const Eigen::VectorXd& a, const Eigen::VectorXd& b) { return a(k - 1) > b(k - 1); });
  const Eigen::VectorXd r_low = r.head(k - 1);
  double hv = 0;
  std::vector<Eigen::VectorXd> slice;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    Eigen::VectorXd q = pts[i].head(k - 1);
    // drop points of the slice dominated (weakly) by the new one, skip the new one when it is dominated
    bool dominated = false;
    for (const auto& s : slice)
      if ((s.array() >= q.array()).all()) {
        dominated = true;
        break;
      }
    if (!dominated) {
      slice.erase(std::remove_if(slice.begin(), slice.end(),
                                 [&q](const Eigen::VectorXd& s) { return (q.array() >= s.array()).all(); }),
                  slice.end());
      slice.push_back(std::move(q));
    }
    const double lower = i + 1 < pts.size() ? pts[i + 1](k - 1) : r(k - 1);
    const double thickness = pts[i](k - 1) - lower;
    if (thickness > 0) hv += thickness * hv_rec(slice, r_low);
  }
  return hv;
}

}  // namespace

std::vector<std::size_t> pareto_front(const Eigen::MatrixXd& Y) {
  check_finite(Y, "pareto_front");
  std::vector<std::size_t> out;
  const Eigen::Index n = Y.rows();
  for (Eigen::Index i = 0; i < n; ++i) {
    bool dominated = false;
    for (Eigen::Index j = 0; j < n && !dominated; ++j)
      if (j != i && dominates(Y.row(j), Y.row(i))) dominated = true;
    if (!dominated) out.push_back(static_cast<std::size_t>(i));
  }
  return out;
}

double hypervolume(const Eigen::MatrixXd& points, const Eigen::VectorXd& reference) {
  if (reference.size() == 0) throw InvalidArgument("hypervolume: empty reference point");
  if (points.rows() > 0 && points.cols() != reference.size())
    throw InvalidArgument("hypervolume: points have " + std::to_string(points.cols()) +
                          " columns, the reference point has " + std::to_string(reference.size()) + " entries");
  if (!reference.allFinite()) throw InvalidArgument("hypervolume: the reference point must be finite");
  check_finite(points, "hypervolume");
  std::vector<Eigen::VectorXd> pts;
  for (Eigen::Index i = 0; i < points.rows(); ++i) {
    const Eigen::VectorXd p = points.row(i).transpose();
    if ((p.array() > reference.array()).all()) pts.push_back(p);
  }
  return hv_rec(std::move(pts), reference);
}

}  // namespace tsunagu::bayesopt
