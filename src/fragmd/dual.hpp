#pragma once
// Forward-mode dual numbers with N derivative directions. Evaluating a pair energy once with fragment b's lab-frame
// data lifted to Dual<6> (3 translations + 3 infinitesimal rotations about its centre of mass, rigid.hpp) gives the
// analytic gradient and torque from the same code as the energy. The production electrostatics gradient is written
// out by hand (electrostatics.cpp, ten times faster); this path is kept as its test oracle (electrostatics_dual.hpp).
#include <array>
#include <cmath>

namespace tsunagu::fragmd {

template <int N>
struct Dual {
  double v = 0.0;
  std::array<double, N> g{};
  Dual() = default;
  Dual(double x) : v(x) {}  // NOLINT: constants lift implicitly
  Dual& operator+=(const Dual& o) {
    v += o.v;
    for (int i = 0; i < N; ++i) g[i] += o.g[i];
    return *this;
  }
  Dual& operator-=(const Dual& o) {
    v -= o.v;
    for (int i = 0; i < N; ++i) g[i] -= o.g[i];
    return *this;
  }
  Dual& operator*=(const Dual& o) {
    for (int i = 0; i < N; ++i) g[i] = g[i] * o.v + v * o.g[i];
    v *= o.v;
    return *this;
  }
  Dual& operator/=(const Dual& o) {
    const double inv = 1.0 / o.v;
    for (int i = 0; i < N; ++i) g[i] = (g[i] - v * inv * o.g[i]) * inv;
    v *= inv;
    return *this;
  }
};

template <int N> Dual<N> operator+(Dual<N> a, const Dual<N>& b) { return a += b; }
template <int N> Dual<N> operator-(Dual<N> a, const Dual<N>& b) { return a -= b; }
template <int N> Dual<N> operator*(Dual<N> a, const Dual<N>& b) { return a *= b; }
template <int N> Dual<N> operator/(Dual<N> a, const Dual<N>& b) { return a /= b; }
template <int N> Dual<N> operator+(Dual<N> a, double b) { a.v += b; return a; }
template <int N> Dual<N> operator+(double b, Dual<N> a) { a.v += b; return a; }
template <int N> Dual<N> operator-(Dual<N> a, double b) { a.v -= b; return a; }
template <int N> Dual<N> operator-(double b, const Dual<N>& a) { Dual<N> r = -a; r.v += b; return r; }
template <int N> Dual<N> operator*(Dual<N> a, double b) {
  a.v *= b;
  for (auto& x : a.g) x *= b;
  return a;
}
template <int N> Dual<N> operator*(double b, Dual<N> a) { return a * b; }
template <int N> Dual<N> operator/(Dual<N> a, double b) { return a * (1.0 / b); }
template <int N> Dual<N> operator/(double b, const Dual<N>& a) { return Dual<N>(b) / a; }
template <int N> Dual<N> operator-(Dual<N> a) {
  a.v = -a.v;
  for (auto& x : a.g) x = -x;
  return a;
}

template <int N> Dual<N> chain(const Dual<N>& a, double f, double df) {
  Dual<N> r;
  r.v = f;
  for (int i = 0; i < N; ++i) r.g[i] = df * a.g[i];
  return r;
}
template <int N> Dual<N> sqrt(const Dual<N>& a) { const double s = std::sqrt(a.v); return chain(a, s, 0.5 / s); }
template <int N> Dual<N> exp(const Dual<N>& a) { const double e = std::exp(a.v); return chain(a, e, e); }
template <int N> Dual<N> log(const Dual<N>& a) { return chain(a, std::log(a.v), 1.0 / a.v); }
template <int N> Dual<N> abs(const Dual<N>& a) { return a.v < 0 ? -a : a; }
template <int N> Dual<N> erf(const Dual<N>& a) {
  return chain(a, std::erf(a.v), 2.0 / std::sqrt(M_PI) * std::exp(-a.v * a.v));
}
template <int N> Dual<N> erfc(const Dual<N>& a) {
  return chain(a, std::erfc(a.v), -2.0 / std::sqrt(M_PI) * std::exp(-a.v * a.v));
}

inline double value(double x) { return x; }
template <int N> double value(const Dual<N>& x) { return x.v; }

/// Minimal 3-vector over a scalar type (Eigen's dual-number support would pull in more machinery than needed).
template <typename T>
struct V3 {
  T x{}, y{}, z{};
  T& operator[](int i) { return i == 0 ? x : i == 1 ? y : z; }
  const T& operator[](int i) const { return i == 0 ? x : i == 1 ? y : z; }
};
template <typename T, typename U> auto operator-(const V3<T>& a, const V3<U>& b) {
  using R = decltype(a.x - b.x);
  return V3<R>{a.x - b.x, a.y - b.y, a.z - b.z};
}
template <typename T, typename U> auto dot(const V3<T>& a, const V3<U>& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

}  // namespace tsunagu::fragmd
