// Rigid-fragment MD: DLM rotation splitting, Nosé–Hoover chains, MTK barostat on centres of mass, trajectories and
// restart files. See md.hpp for the equations' provenance.
#include "tsunagu/fragmd/md.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <map>
#include <ostream>
#include <sstream>

#include <Eigen/Eigenvalues>
#include <Eigen/Geometry>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/hdf5.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/fragmd/units.hpp"

namespace tsunagu::fragmd {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Atomic unit of pressure (hartree/bohr³) in bar, from the CODATA 2010 hartree and bohr of units.hpp.
constexpr double kHartreeJoule = 4.35974434e-18;
const double kAuPressureBar = kHartreeJoule / std::pow(kBohrAngstrom * 1e-10, 3) / 1e5;
constexpr double kAmuGram = 1.660538921e-24;
constexpr double kAngstrom3Cm3 = 1e-24;
// Relative scaling step of the finite-difference virial: truncation ~δ², round-off ~1e-16/δ of |U|.
constexpr double kVirialStep = 1e-5;

double sinhc(double x) { return std::abs(x) < 1e-4 ? 1.0 + x * x / 6.0 + x * x * x * x / 120.0 : std::sinh(x) / x; }

Eigen::Matrix3d axis_rotation(int k, double phi) {
  return Eigen::AngleAxisd(phi, Eigen::Vector3d::Unit(k)).toRotationMatrix();
}

// Box–Muller on core::uniform01, so the stream is identical on every platform (std::normal_distribution is not).
double gaussian(core::Rng& rng) {
  const double u1 = 1.0 - core::uniform01(rng), u2 = core::uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

const char* ensemble_name(Ensemble e) { return e == Ensemble::NVE ? "nve" : e == Ensemble::NVT ? "nvt" : "npt"; }

bool positive(double x) { return std::isfinite(x) && x > 0; }

}  // namespace

Ensemble parse_ensemble(const std::string& name) {
  if (name == "nve") return Ensemble::NVE;
  if (name == "nvt") return Ensemble::NVT;
  if (name == "npt") return Ensemble::NPT;
  throw InvalidArgument("ensemble must be nve, nvt or npt, got '" + name + "'");
}

void MdOptions::validate() const {
  if (!positive(time_step_fs)) throw InvalidArgument("MdOptions.time_step_fs must be a positive number");
  if (!positive(temperature_K) && !(temperature_K == 0 && ensemble == Ensemble::NVE))
    throw InvalidArgument("MdOptions.temperature_K must be positive (0 allowed only for NVE)");
  if (!std::isfinite(pressure_bar)) throw InvalidArgument("MdOptions.pressure_bar must be finite");
  if (!positive(thermostat_tau_fs)) throw InvalidArgument("MdOptions.thermostat_tau_fs must be a positive number");
  if (!positive(barostat_tau_fs)) throw InvalidArgument("MdOptions.barostat_tau_fs must be a positive number");
  if (chain_length < 1 || chain_length > 20) throw InvalidArgument("MdOptions.chain_length must be in 1..20");
  if (frame_every > 0 && write_every == 0) throw InvalidArgument("MdOptions.write_every must be at least 1");
  if (!trajectory_path.empty() && frame_every == 0)
    throw InvalidArgument("MdOptions.frame_every must be at least 1 when trajectory_path is set");
}

MdOptions md_options_from_input(const InputFile& in, MdOptions o) {
  auto text = [&](const std::string& key) -> std::optional<std::string> {
    auto it = in.extra.find(key);
    if (it == in.extra.end()) return std::nullopt;
    std::istringstream is(it->second);
    std::string word, extra;
    if (!(is >> word) || (is >> extra)) throw InvalidArgument("input '" + in.path + "': '" + key + "' needs one value");
    return word;
  };
  auto number = [&](const std::string& key, double fallback) {
    const auto t = text(key);
    if (!t) return fallback;
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(*t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != t->size() || !std::isfinite(v))
      throw InvalidArgument("input '" + in.path + "': '" + key + "' is not a number: '" + *t + "'");
    return v;
  };
  if (const auto e = text("ensemble")) {
    try {
      o.ensemble = parse_ensemble(*e);
    } catch (const InvalidArgument& err) {
      throw InvalidArgument("input '" + in.path + "': " + err.what());
    }
  } else {
    o.ensemble = Ensemble::NVE;
  }
  o.time_step_fs = number("time_step", 1.0);
  const double steps = number("max_steps", 100);
  const double print = number("print_step", 1);
  if (steps < 0 || steps != std::floor(steps)) throw InvalidArgument("input '" + in.path + "': 'max_steps' must be a whole number");
  if (print < 0 || print != std::floor(print)) throw InvalidArgument("input '" + in.path + "': 'print_step' must be a whole number");
  o.steps = static_cast<std::size_t>(steps);
  o.print_every = static_cast<std::size_t>(print);
  o.temperature_K = number("temperature", 300.0);
  o.pressure_bar = number("pressure", 1.0);
  o.thermostat_tau_fs = number("thermostat_tau", 1000.0);
  o.barostat_tau_fs = number("barostat_tau", 10000.0);
  if (const auto v = text("velocitize")) {
    if (*v != "true" && *v != "false") throw InvalidArgument("input '" + in.path + "': 'velocitize' must be true or false");
    o.init_velocities = *v == "true";
  } else {
    o.init_velocities = false;
  }
  if (!in.velocities.empty()) {
    o.initial_velocities = in.velocities;
    o.init_velocities = false;
  }
  o.validate();
  return o;
}

Evaluator efp_evaluator(unsigned threads) {
  return [threads](const System& s, bool gradient) {
    ComputeOptions o;
    o.gradient = gradient;
    o.threads = threads;
    ComputeResult r = compute(s, o);
    Evaluation e;
    e.energy = r.energy;
    e.gradient = std::move(r.gradient);
    // The analytic molecular virial when every term provides it (not yet polarisation); otherwise the integrator
    // falls back to the finite-difference W (md.hpp).
    if (gradient && r.virial_complete) e.virial = r.virial;
    return e;
  };
}

// ----------------------------------------------------------------------------------------------------------------
// Dynamics

Dynamics::Dynamics(System system, const MdOptions& options, Evaluator evaluator)
    : system_(std::move(system)), options_(options), evaluator_(std::move(evaluator)) {
  options_.validate();
  if (!evaluator_) evaluator_ = efp_evaluator(options_.threads);
  const std::size_t n = system_.fragments.size();
  if (n == 0) throw InvalidArgument("md: the system has no fragments");
  if (options_.ensemble == Ensemble::NPT && !system_.periodic)
    throw InvalidArgument("md: NPT needs a periodic system (enable_pbc)");
  bodies_.resize(n);
  state_.bodies.resize(n);
  std::size_t rot_dof = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Fragment& f = system_.fragments[i];
    Body& b = bodies_[i];
    Eigen::Matrix3d inertia = Eigen::Matrix3d::Zero();
    for (const auto& a : f.type->atoms) b.mass_amu += a.mass;
    if (!(b.mass_amu > 0)) throw InvalidArgument("md: fragment '" + f.type->name + "' has no mass");
    b.mass = b.mass_amu * kAmuToAu;
    b.c_body = f.type->center_of_mass();
    for (const auto& a : f.type->atoms) {
      const Eigen::Vector3d r = a.r - b.c_body;
      inertia += a.mass * kAmuToAu * (r.squaredNorm() * Eigen::Matrix3d::Identity() - r * r.transpose());
    }
    Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> es(inertia);
    b.V = es.eigenvectors();
    if (b.V.determinant() < 0) b.V.col(2) = -b.V.col(2);
    b.I = es.eigenvalues();
    for (int k = 0; k < 3; ++k) {
      b.active[k] = b.I[k] > 1e-8 * b.I.maxCoeff();
      rot_dof += b.active[k];
    }
    RigidBody& rb = state_.bodies[i];
    rb.rotation = f.R;
    rb.position = f.com + f.R * b.c_body;
  }
  dof_trans_ = n > 1 ? 3 * n - 3 : 3;
  dof_ = dof_trans_ + rot_dof;
  state_.box = system_.box;
  const bool thermostat = options_.ensemble != Ensemble::NVE;
  const bool barostat = options_.ensemble == Ensemble::NPT;
  kT_ = kBoltzmannAu * options_.temperature_K;
  if (thermostat) {
    const double tau = options_.thermostat_tau_fs * kFemtosecondToAu;
    q_chain1_ = static_cast<double>(dof_ + (barostat ? 1 : 0)) * kT_ * tau * tau;
    q_chain_ = kT_ * tau * tau;
    state_.chain_position.assign(options_.chain_length, 0.0);
    state_.chain_velocity.assign(options_.chain_length, 0.0);
  }
  if (barostat) {
    const double tau = options_.barostat_tau_fs * kFemtosecondToAu;
    w_baro_ = static_cast<double>(dof_ + 3) * kT_ * tau * tau;
    p_ext_ = options_.pressure_bar / kAuPressureBar;
  }
  force_.assign(n, Eigen::Vector3d::Zero());
  torque_.assign(n, Eigen::Vector3d::Zero());
  place_all();
}

double Dynamics::mass_amu(std::size_t i) const { return bodies_.at(i).mass_amu; }
Eigen::Vector3d Dynamics::principal_moments(std::size_t i) const { return bodies_.at(i).I / kAmuToAu; }
double Dynamics::total_mass_amu() const {
  double m = 0;
  for (const auto& b : bodies_) m += b.mass_amu;
  return m;
}

void Dynamics::place_all() {
  system_.box = state_.box;
  for (std::size_t i = 0; i < bodies_.size(); ++i) {
    const RigidBody& rb = state_.bodies[i];
    const FragmentType& type = *system_.fragments[i].type;
    system_.fragments[i] = place(type, rb.position - rb.rotation * bodies_[i].c_body, rb.rotation);
  }
  have_forces_ = have_virial_ = false;
  virial_tensor_.reset();
}

void Dynamics::set_state(const MdState& s) {
  if (s.bodies.size() != bodies_.size())
    throw InvalidArgument("md state has " + std::to_string(s.bodies.size()) + " bodies, the system " +
                          std::to_string(bodies_.size()));
  const bool thermostat = options_.ensemble != Ensemble::NVE;
  if (thermostat && (s.chain_position.size() != static_cast<std::size_t>(options_.chain_length) ||
                     s.chain_velocity.size() != s.chain_position.size()))
    throw InvalidArgument("md state: thermostat chain length differs from MdOptions.chain_length");
  if (system_.periodic && !(s.box.array() > 0).all()) throw InvalidArgument("md state: box must be positive");
  state_ = s;
  if (!thermostat) {
    state_.chain_position.clear();
    state_.chain_velocity.clear();
  }
  if (options_.ensemble != Ensemble::NPT) state_.barostat_velocity = 0;
  if (!system_.periodic) state_.box = system_.box;
  place_all();
}

void Dynamics::set_velocities(const std::vector<std::array<double, 6>>& v) {
  if (v.size() != bodies_.size())
    throw InvalidArgument("initial_velocities: " + std::to_string(v.size()) + " entries for " +
                          std::to_string(bodies_.size()) + " fragments");
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Body& b = bodies_[i];
    RigidBody& rb = state_.bodies[i];
    rb.momentum = b.mass * Eigen::Vector3d(v[i][0], v[i][1], v[i][2]);
    // L (file frame) = I_file ω with I_file = V diag(I) Vᵀ.
    rb.angular_momentum = b.V * b.I.asDiagonal() * b.V.transpose() * Eigen::Vector3d(v[i][3], v[i][4], v[i][5]);
  }
}

void Dynamics::initialize_velocities() {
  core::Rng rng = core::make_rng(options_.seed);
  const std::size_t n = bodies_.size();
  Eigen::Vector3d ptot = Eigen::Vector3d::Zero();
  double mtot = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Body& b = bodies_[i];
    RigidBody& rb = state_.bodies[i];
    for (int k = 0; k < 3; ++k) rb.momentum[k] = std::sqrt(b.mass * kT_) * gaussian(rng);
    Eigen::Vector3d pi = Eigen::Vector3d::Zero();
    for (int k = 0; k < 3; ++k)
      if (b.active[k]) pi[k] = std::sqrt(b.I[k] * kT_) * gaussian(rng);
    rb.angular_momentum = b.V * pi;
    ptot += rb.momentum;
    mtot += b.mass;
  }
  if (n > 1)
    for (std::size_t i = 0; i < n; ++i) state_.bodies[i].momentum -= bodies_[i].mass / mtot * ptot;
  // Exact target temperature in each of translation and rotation (equipartition from the first step).
  const double kt = translational_kinetic(), kr = rotational_kinetic();
  const double rot_dof = static_cast<double>(dof_ - dof_trans_);
  const double st = kt > 0 ? std::sqrt(0.5 * dof_trans_ * kT_ / kt) : 0.0;
  const double sr = kr > 0 ? std::sqrt(0.5 * rot_dof * kT_ / kr) : 0.0;
  for (auto& rb : state_.bodies) {
    rb.momentum *= st;
    rb.angular_momentum *= sr;
  }
}

void Dynamics::reverse() {
  for (auto& rb : state_.bodies) {
    rb.momentum = -rb.momentum;
    rb.angular_momentum = -rb.angular_momentum;
  }
  for (double& v : state_.chain_velocity) v = -v;
  state_.barostat_velocity = -state_.barostat_velocity;
}

double Dynamics::translational_kinetic() const {
  double k = 0;
  for (std::size_t i = 0; i < bodies_.size(); ++i)
    k += state_.bodies[i].momentum.squaredNorm() / (2 * bodies_[i].mass);
  return k;
}

double Dynamics::rotational_kinetic() const {
  double k = 0;
  for (std::size_t i = 0; i < bodies_.size(); ++i) {
    const Body& b = bodies_[i];
    const Eigen::Vector3d pi = b.V.transpose() * state_.bodies[i].angular_momentum;
    for (int a = 0; a < 3; ++a)
      if (b.active[a]) k += pi[a] * pi[a] / (2 * b.I[a]);
  }
  return k;
}

void Dynamics::evaluate(bool need_virial) {
  Evaluation ev = evaluator_(system_, true);
  const std::size_t n = bodies_.size();
  if (ev.gradient.size() != n) throw InvalidArgument("md: evaluator returned a gradient of the wrong size");
  energy_ = ev.energy;
  for (std::size_t i = 0; i < n; ++i) {
    const Eigen::Vector3d f = -ev.gradient[i].head<3>();
    const Eigen::Vector3d t_origin = -ev.gradient[i].tail<3>();
    // The gradient's torque is about the placement origin; the body rotates about its true centre of mass.
    const Eigen::Vector3d arm = state_.bodies[i].rotation * bodies_[i].c_body;
    force_[i] = f;
    torque_[i] = t_origin - arm.cross(f);
    if (!f.allFinite() || !torque_[i].allFinite()) throw NumericalError("md: non-finite force on fragment " +
                                                                         std::to_string(i));
  }
  have_forces_ = true;
  virial_tensor_ = ev.virial;
  have_virial_ = ev.virial.has_value();
  if (have_virial_) virial_ = ev.virial->trace();
  else if (need_virial) {
    virial_ = virial_scalar();
    have_virial_ = true;
  }
}

// W = −dU/dλ for COMs and box scaled by λ (orientations fixed), by a central difference.
double Dynamics::virial_scalar() {
  auto energy_at = [&](double lambda) {
    System s = system_;
    s.box = state_.box * lambda;
    for (std::size_t i = 0; i < bodies_.size(); ++i) {
      const RigidBody& rb = state_.bodies[i];
      s.fragments[i] = place(*s.fragments[i].type, lambda * rb.position - rb.rotation * bodies_[i].c_body,
                             rb.rotation);
    }
    return evaluator_(s, false).energy.total();
  };
  return -(energy_at(1 + kVirialStep) - energy_at(1 - kVirialStep)) / (2 * kVirialStep);
}

// Momentum half-kick with the MTK friction exp(−α v_ε t) solved exactly.
void Dynamics::kick(double h, double alpha) {
  const double a = alpha * state_.barostat_velocity * h;
  const double decay = std::exp(-a), fscale = h * std::exp(-a / 2) * sinhc(a / 2);
  for (std::size_t i = 0; i < bodies_.size(); ++i) {
    RigidBody& rb = state_.bodies[i];
    const Body& b = bodies_[i];
    rb.momentum = rb.momentum * decay + fscale * force_[i];
    Eigen::Vector3d pi = b.V.transpose() * rb.angular_momentum + h * (rb.rotation * b.V).transpose() * torque_[i];
    for (int k = 0; k < 3; ++k)
      if (!b.active[k]) pi[k] = 0;
    rb.angular_momentum = b.V * pi;
  }
}

// Positions (with MTK dilation) and exact free rotations in the DLM order x/2 y/2 z y/2 x/2.
void Dynamics::drift(double h) {
  const double v = state_.barostat_velocity * h;
  const double grow = std::exp(v), pscale = h * std::exp(v / 2) * sinhc(v / 2);
  for (std::size_t i = 0; i < bodies_.size(); ++i) {
    RigidBody& rb = state_.bodies[i];
    const Body& b = bodies_[i];
    rb.position = rb.position * grow + pscale / b.mass * rb.momentum;
    Eigen::Matrix3d Q = rb.rotation * b.V;
    Eigen::Vector3d pi = b.V.transpose() * rb.angular_momentum;
    static constexpr std::array<std::pair<int, double>, 5> seq{{{0, 0.5}, {1, 0.5}, {2, 1.0}, {1, 0.5}, {0, 0.5}}};
    for (const auto& [k, w] : seq) {
      if (!b.active[k]) continue;
      const Eigen::Matrix3d Rk = axis_rotation(k, w * h * pi[k] / b.I[k]);
      Q = Q * Rk;
      pi = Rk.transpose() * pi;
    }
    Eigen::Matrix3d R = Q * b.V.transpose();
    // One Newton step towards the nearest orthogonal matrix keeps round-off from accumulating.
    R = 0.5 * R * (3.0 * Eigen::Matrix3d::Identity() - R.transpose() * R);
    rb.rotation = R;
    rb.angular_momentum = b.V * pi;
  }
  state_.box *= grow;
  for (const auto& rb : state_.bodies)
    if (!rb.position.allFinite() || !rb.rotation.allFinite())
      throw NumericalError("md: non-finite coordinates at step " + std::to_string(state_.step + 1) +
                           " (the trajectory blew up; reduce time_step_fs or check the starting geometry)");
  if (system_.periodic && system_.cutoff_enabled && 2.0 * system_.cutoff > state_.box.minCoeff())
    throw NumericalError("md: at step " + std::to_string(state_.step + 1) +
                         " the box shrank below twice the cutoff (minimum image no longer valid)");
  place_all();
}

// G_ε = 3V(P_int − P_ext) + (3/N_f)·2K_trans with 3V·P_int = 2K_trans + W (MTK).
double Dynamics::barostat_force() const {
  const double volume = state_.box.prod();
  const double alpha = 1.0 + 3.0 / (3.0 * static_cast<double>(bodies_.size()));
  return alpha * 2.0 * translational_kinetic() + virial_ - 3.0 * volume * p_ext_;
}

// Nosé–Hoover chain over time h (Martyna–Tuckerman–Tobias–Klein 1996, Suzuki–Yoshida order 3), acting on all
// rigid-body momenta and, for NPT, the barostat velocity.
void Dynamics::thermostat_half(double h) {
  auto& xi = state_.chain_position;
  auto& v = state_.chain_velocity;
  const std::size_t m = v.size();
  const bool baro = options_.ensemble == Ensemble::NPT;
  const double nf = static_cast<double>(dof_ + (baro ? 1 : 0));
  double k2 = 2.0 * (translational_kinetic() + rotational_kinetic());
  if (baro) k2 += w_baro_ * state_.barostat_velocity * state_.barostat_velocity;
  auto q = [&](std::size_t j) { return j == 0 ? q_chain1_ : q_chain_; };
  auto g = [&](std::size_t j) { return j == 0 ? (k2 - nf * kT_) / q(0) : (q(j - 1) * v[j - 1] * v[j - 1] - kT_) / q(j); };
  const double w1 = 1.0 / (2.0 - std::cbrt(2.0));
  const std::array<double, 3> weights{w1, 1.0 - 2.0 * w1, w1};
  double scale = 1.0;
  for (double w : weights) {
    const double d = w * h;
    v[m - 1] += 0.25 * d * g(m - 1);
    for (std::size_t j = m - 1; j-- > 0;) {
      const double e = std::exp(-0.125 * d * v[j + 1]);
      v[j] = (v[j] * e + 0.25 * d * g(j)) * e;
    }
    const double s = std::exp(-0.5 * d * v[0]);
    scale *= s;
    k2 *= s * s;
    for (std::size_t j = 0; j < m; ++j) xi[j] += 0.5 * d * v[j];
    for (std::size_t j = 0; j + 1 < m; ++j) {
      const double e = std::exp(-0.125 * d * v[j + 1]);
      v[j] = (v[j] * e + 0.25 * d * g(j)) * e;
    }
    v[m - 1] += 0.25 * d * g(m - 1);
  }
  for (auto& rb : state_.bodies) {
    rb.momentum *= scale;
    rb.angular_momentum *= scale;
  }
  state_.barostat_velocity *= scale;
}

void Dynamics::advance(std::size_t steps) {
  const bool thermostat = options_.ensemble != Ensemble::NVE;
  const bool barostat = options_.ensemble == Ensemble::NPT;
  const double h = options_.time_step_fs * kFemtosecondToAu;
  const double alpha = barostat ? 1.0 + 1.0 / static_cast<double>(bodies_.size()) : 0.0;
  if (!have_forces_ || (barostat && !have_virial_)) evaluate(barostat);
  for (std::size_t s = 0; s < steps; ++s) {
    // thermostat_half(h) advances the chain by h/2 (its internal sub-steps use d/2).
    if (thermostat) thermostat_half(h);
    if (barostat) state_.barostat_velocity += 0.5 * h * barostat_force() / w_baro_;
    kick(0.5 * h, alpha);
    drift(h);
    evaluate(barostat);
    kick(0.5 * h, alpha);
    if (barostat) state_.barostat_velocity += 0.5 * h * barostat_force() / w_baro_;
    if (thermostat) thermostat_half(h);
    ++state_.step;
    state_.time_fs += options_.time_step_fs;
  }
}

Thermo Dynamics::thermo(bool with_pressure) {
  if (!have_forces_) evaluate(false);
  Thermo t;
  t.step = state_.step;
  t.time_fs = state_.time_fs;
  t.potential = energy_;
  t.kinetic_translational = translational_kinetic();
  t.kinetic_rotational = rotational_kinetic();
  t.temperature = dof_ ? 2.0 * t.kinetic() / (static_cast<double>(dof_) * kBoltzmannAu) : 0.0;
  t.pressure = kNaN;
  double volume_au = 0;
  if (system_.periodic) {
    volume_au = state_.box.prod();
    t.volume = volume_au * std::pow(kBohrAngstrom, 3);
    t.density = total_mass_amu() * kAmuGram / (t.volume * kAngstrom3Cm3);
    if (with_pressure) {
      if (!have_virial_) {
        virial_ = virial_scalar();
        have_virial_ = true;
      }
      t.pressure = (2.0 * t.kinetic_translational + virial_) / (3.0 * volume_au) * kAuPressureBar;
      if (virial_tensor_) {
        Eigen::Matrix3d pv = *virial_tensor_;
        for (std::size_t i = 0; i < bodies_.size(); ++i) {
          const Eigen::Vector3d& p = state_.bodies[i].momentum;
          pv += p * p.transpose() / bodies_[i].mass;
        }
        t.pressure_tensor = pv / volume_au * kAuPressureBar;
      }
    }
  }
  t.conserved = t.kinetic() + energy_.total();
  if (options_.ensemble != Ensemble::NVE) {
    const auto& xi = state_.chain_position;
    const auto& v = state_.chain_velocity;
    const bool baro = options_.ensemble == Ensemble::NPT;
    const double nf = static_cast<double>(dof_ + (baro ? 1 : 0));
    for (std::size_t j = 0; j < v.size(); ++j) {
      t.conserved += 0.5 * (j == 0 ? q_chain1_ : q_chain_) * v[j] * v[j];
      t.conserved += (j == 0 ? nf : 1.0) * kT_ * xi[j];
    }
    if (baro) t.conserved += 0.5 * w_baro_ * state_.barostat_velocity * state_.barostat_velocity + p_ext_ * volume_au;
  }
  return t;
}

// ----------------------------------------------------------------------------------------------------------------
// Restart files

namespace {

constexpr const char* kRestartFormat = "tsunagu.fragmd.restart/1";
constexpr const char* kTrajectoryFormat = "tsunagu.fragmd.trajectory/1";

nlohmann::json vec_json(const Eigen::Vector3d& v) { return {v[0], v[1], v[2]}; }

Eigen::Vector3d json_vec(const nlohmann::json& j, const std::string& what) {
  if (!j.is_array() || j.size() != 3) throw InvalidArgument("restart: '" + what + "' must be 3 numbers");
  return Eigen::Vector3d(j[0].get<double>(), j[1].get<double>(), j[2].get<double>());
}

}  // namespace

void write_restart(const std::string& path, const MdState& s, const MdOptions& options, const System& system) {
  nlohmann::json j;
  j["format"] = kRestartFormat;
  j["ensemble"] = ensemble_name(options.ensemble);
  j["time_step_fs"] = options.time_step_fs;
  j["step"] = s.step;
  j["time_fs"] = s.time_fs;
  j["box_bohr"] = vec_json(s.box);
  nlohmann::json types = nlohmann::json::array(), bodies = nlohmann::json::array();
  for (const auto& f : system.fragments) types.push_back(f.type->name);
  for (const auto& b : s.bodies) {
    nlohmann::json r = nlohmann::json::array();
    for (int a = 0; a < 3; ++a)
      for (int c = 0; c < 3; ++c) r.push_back(b.rotation(a, c));
    bodies.push_back({{"position", vec_json(b.position)},
                      {"momentum", vec_json(b.momentum)},
                      {"rotation", r},
                      {"angular_momentum", vec_json(b.angular_momentum)}});
  }
  j["fragments"] = types;
  j["bodies"] = bodies;
  j["chain_position"] = s.chain_position;
  j["chain_velocity"] = s.chain_velocity;
  j["barostat_velocity"] = s.barostat_velocity;
  j["units"] = "atomic units: bohr, m_e*bohr/t_au, hbar; rotation row-major body->lab; time in fs";
  core::write_json(path, j);
}

MdState read_restart(const std::string& path, const System& system) {
  const nlohmann::json j = core::read_json(path);
  try {
    if (j.value("format", "") != kRestartFormat)
      throw InvalidArgument("restart '" + path + "': not a " + std::string(kRestartFormat) + " file");
    MdState s;
    s.step = j.at("step").get<std::size_t>();
    s.time_fs = j.at("time_fs").get<double>();
    s.box = json_vec(j.at("box_bohr"), "box_bohr");
    const auto& types = j.at("fragments");
    if (types.size() != system.fragments.size())
      throw InvalidArgument("restart '" + path + "' has " + std::to_string(types.size()) + " fragments, the input " +
                            std::to_string(system.fragments.size()));
    for (std::size_t i = 0; i < types.size(); ++i)
      if (types[i].get<std::string>() != system.fragments[i].type->name)
        throw InvalidArgument("restart '" + path + "': fragment " + std::to_string(i) + " is '" +
                              types[i].get<std::string>() + "', the input has '" + system.fragments[i].type->name +
                              "'");
    for (const auto& b : j.at("bodies")) {
      RigidBody rb;
      rb.position = json_vec(b.at("position"), "position");
      rb.momentum = json_vec(b.at("momentum"), "momentum");
      rb.angular_momentum = json_vec(b.at("angular_momentum"), "angular_momentum");
      const auto& r = b.at("rotation");
      if (!r.is_array() || r.size() != 9) throw InvalidArgument("restart '" + path + "': rotation must be 9 numbers");
      for (int a = 0; a < 3; ++a)
        for (int c = 0; c < 3; ++c) rb.rotation(a, c) = r[3 * a + c].get<double>();
      s.bodies.push_back(rb);
    }
    if (s.bodies.size() != system.fragments.size())
      throw InvalidArgument("restart '" + path + "': bodies and fragments differ in number");
    s.chain_position = j.at("chain_position").get<std::vector<double>>();
    s.chain_velocity = j.at("chain_velocity").get<std::vector<double>>();
    s.barostat_velocity = j.at("barostat_velocity").get<double>();
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument("restart '" + path + "': " + e.what());
  }
}

// ----------------------------------------------------------------------------------------------------------------
// Trajectories. HDF5 layout (one dataset per name, F frames, N fragments, A atoms):
//   time_fs (F) · com (F,N,3) Å unwrapped · rotation (F,N,3,3) body→lab · box (F,3) Å · atoms (F,A,3) Å (optional)
//   energy/{electrostatic,charge_penetration,electrostatic_point_charges,polarization,dispersion,
//           exchange_repulsion,total} (F) hartree · kinetic (F) hartree · temperature (F) K · pressure (F) bar ·
//   pressure_tensor (F,3,3) bar (only with a full virial) · conserved (F) hartree ·
//   fragment_mass (N) amu · atom_fragment, atom_mass (amu), atom_znuc (A)
//   attributes: format, ensemble, time_step_fs, fragment_types and atom_labels (space-separated).

void Trajectory::append(const Thermo& t, const MdState& s, const System& system, bool with_atoms) {
  const std::size_t n = system.fragments.size();
  if (fragment_types.empty()) {
    for (std::size_t i = 0; i < n; ++i) {
      const Fragment& f = system.fragments[i];
      fragment_types.push_back(f.type->name);
      double m = 0;
      for (const auto& a : f.type->atoms) {
        m += a.mass;
        atom_labels.push_back(a.label);
        atom_fragment.push_back(static_cast<int>(i));
        atom_mass.push_back(a.mass);
        atom_znuc.push_back(a.znuc);
      }
      fragment_mass.push_back(m);
    }
  }
  if (s.bodies.size() != fragments()) throw InvalidArgument("trajectory: frame has a different number of fragments");
  time_fs.push_back(t.time_fs);
  Eigen::MatrixX3d c(n, 3);
  std::vector<Eigen::Matrix3d> rot(n);
  for (std::size_t i = 0; i < n; ++i) {
    c.row(static_cast<Eigen::Index>(i)) = s.bodies[i].position.transpose() * kBohrAngstrom;
    rot[i] = s.bodies[i].rotation;
  }
  com.push_back(c);
  rotation.push_back(rot);
  box.push_back(system.periodic ? Eigen::Vector3d(s.box * kBohrAngstrom) : Eigen::Vector3d::Zero());
  if (with_atoms) {
    Eigen::MatrixX3d x(static_cast<Eigen::Index>(atom_labels.size()), 3);
    Eigen::Index k = 0;
    for (const auto& f : system.fragments)
      for (const auto& a : f.atoms) x.row(k++) = a.r.transpose() * kBohrAngstrom;
    atoms.push_back(x);
  }
  energy.push_back(t.potential);
  kinetic.push_back(t.kinetic());
  temperature.push_back(t.temperature);
  pressure.push_back(t.pressure);
  if (t.pressure_tensor && pressure_tensor.size() + 1 == time_fs.size()) pressure_tensor.push_back(*t.pressure_tensor);
  conserved.push_back(t.conserved);
}

namespace {

std::string join_words(const std::vector<std::string>& w) {
  std::string out;
  for (const auto& s : w) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream is(s);
  for (std::string w; is >> w;) out.push_back(w);
  return out;
}

core::NdArray series(const std::vector<double>& v) { return core::NdArray{{v.size()}, v}; }

}  // namespace

void Trajectory::write(const std::string& path) const {
  const std::size_t f = frames(), n = fragments(), na = atom_labels.size();
  std::map<std::string, core::NdArray> out;
  out["time_fs"] = series(time_fs);
  core::NdArray c{{f, n, 3}, {}}, r{{f, n, 3, 3}, {}}, b{{f, 3}, {}};
  c.data.reserve(f * n * 3);
  r.data.reserve(f * n * 9);
  for (std::size_t k = 0; k < f; ++k) {
    for (std::size_t i = 0; i < n; ++i) {
      for (int a = 0; a < 3; ++a) c.data.push_back(com[k](static_cast<Eigen::Index>(i), a));
      for (int a = 0; a < 3; ++a)
        for (int e = 0; e < 3; ++e) r.data.push_back(rotation[k][i](a, e));
    }
    for (int a = 0; a < 3; ++a) b.data.push_back(box[k][a]);
  }
  out["com"] = std::move(c);
  out["rotation"] = std::move(r);
  out["box"] = std::move(b);
  if (!atoms.empty()) {
    core::NdArray x{{f, na, 3}, {}};
    x.data.reserve(f * na * 3);
    for (const auto& m : atoms)
      for (std::size_t i = 0; i < na; ++i)
        for (int a = 0; a < 3; ++a) x.data.push_back(m(static_cast<Eigen::Index>(i), a));
    out["atoms"] = std::move(x);
  }
  auto term = [&](auto get) {
    std::vector<double> v;
    for (const auto& e : energy) v.push_back(get(e));
    return series(v);
  };
  out["energy/electrostatic"] = term([](const EnergyTerms& e) { return e.electrostatic; });
  out["energy/charge_penetration"] = term([](const EnergyTerms& e) { return e.charge_penetration; });
  out["energy/electrostatic_point_charges"] = term([](const EnergyTerms& e) { return e.electrostatic_point_charges; });
  out["energy/polarization"] = term([](const EnergyTerms& e) { return e.polarization; });
  out["energy/dispersion"] = term([](const EnergyTerms& e) { return e.dispersion; });
  out["energy/exchange_repulsion"] = term([](const EnergyTerms& e) { return e.exchange_repulsion; });
  out["energy/total"] = term([](const EnergyTerms& e) { return e.total(); });
  out["kinetic"] = series(kinetic);
  out["temperature"] = series(temperature);
  out["pressure"] = series(pressure);
  out["conserved"] = series(conserved);
  if (!pressure_tensor.empty()) {
    if (pressure_tensor.size() != f) throw InvalidArgument("trajectory: pressure tensor missing for some frames");
    core::NdArray p{{f, 3, 3}, {}};
    for (const auto& m : pressure_tensor)
      for (int a = 0; a < 3; ++a)
        for (int e = 0; e < 3; ++e) p.data.push_back(m(a, e));
    out["pressure_tensor"] = std::move(p);
  }
  out["fragment_mass"] = series(fragment_mass);
  out["atom_mass"] = series(atom_mass);
  out["atom_znuc"] = series(atom_znuc);
  out["atom_fragment"] = series(std::vector<double>(atom_fragment.begin(), atom_fragment.end()));
  std::ostringstream dt;
  dt << std::setprecision(17) << time_step_fs;
  core::h5_write(path, out,
                 {{"format", kTrajectoryFormat},
                  {"ensemble", ensemble},
                  {"time_step_fs", dt.str()},
                  {"fragment_types", join_words(fragment_types)},
                  {"atom_labels", join_words(atom_labels)}});
}

Trajectory read_trajectory(const std::string& path) {
  const auto attrs = core::h5_attributes(path);
  auto attr = [&](const std::string& k) {
    auto it = attrs.find(k);
    if (it == attrs.end()) throw InvalidArgument("trajectory '" + path + "': missing attribute '" + k + "'");
    return it->second;
  };
  if (attr("format") != kTrajectoryFormat)
    throw InvalidArgument("trajectory '" + path + "': not a " + std::string(kTrajectoryFormat) + " file");
  Trajectory t;
  t.ensemble = attr("ensemble");
  t.time_step_fs = std::stod(attr("time_step_fs"));
  t.fragment_types = split_words(attr("fragment_types"));
  t.atom_labels = split_words(attr("atom_labels"));
  const auto names = core::h5_list(path);
  auto has = [&](const std::string& k) { return std::find(names.begin(), names.end(), k) != names.end(); };
  auto vec = [&](const std::string& k) { return core::h5_read(path, k).data; };
  t.time_fs = vec("time_fs");
  t.fragment_mass = vec("fragment_mass");
  t.atom_mass = vec("atom_mass");
  t.atom_znuc = vec("atom_znuc");
  for (double x : vec("atom_fragment")) t.atom_fragment.push_back(static_cast<int>(x));
  const std::size_t f = t.frames(), n = t.fragments(), na = t.atom_labels.size();
  auto need = [&](const core::NdArray& a, std::vector<std::size_t> shape, const std::string& k) {
    if (a.shape != shape) throw InvalidArgument("trajectory '" + path + "': dataset '" + k + "' has the wrong shape");
  };
  const core::NdArray c = core::h5_read(path, "com"), r = core::h5_read(path, "rotation"),
                      b = core::h5_read(path, "box");
  need(c, {f, n, 3}, "com");
  need(r, {f, n, 3, 3}, "rotation");
  need(b, {f, 3}, "box");
  for (std::size_t k = 0; k < f; ++k) {
    Eigen::MatrixX3d m(static_cast<Eigen::Index>(n), 3);
    std::vector<Eigen::Matrix3d> rot(n);
    for (std::size_t i = 0; i < n; ++i)
      for (int a = 0; a < 3; ++a) {
        m(static_cast<Eigen::Index>(i), a) = c.data[(k * n + i) * 3 + a];
        for (int e = 0; e < 3; ++e) rot[i](a, e) = r.data[((k * n + i) * 3 + a) * 3 + e];
      }
    t.com.push_back(m);
    t.rotation.push_back(rot);
    t.box.emplace_back(b.data[3 * k], b.data[3 * k + 1], b.data[3 * k + 2]);
  }
  if (has("atoms")) {
    const core::NdArray x = core::h5_read(path, "atoms");
    need(x, {f, na, 3}, "atoms");
    for (std::size_t k = 0; k < f; ++k) {
      Eigen::MatrixX3d m(static_cast<Eigen::Index>(na), 3);
      for (std::size_t i = 0; i < na; ++i)
        for (int a = 0; a < 3; ++a) m(static_cast<Eigen::Index>(i), a) = x.data[(k * na + i) * 3 + a];
      t.atoms.push_back(m);
    }
  }
  const auto es = vec("energy/electrostatic"), cp = vec("energy/charge_penetration"),
             pc = vec("energy/electrostatic_point_charges"), po = vec("energy/polarization"),
             di = vec("energy/dispersion"), xr = vec("energy/exchange_repulsion");
  for (std::size_t k = 0; k < f; ++k) t.energy.push_back({es.at(k), cp.at(k), pc.at(k), po.at(k), di.at(k), xr.at(k)});
  t.kinetic = vec("kinetic");
  t.temperature = vec("temperature");
  t.pressure = vec("pressure");
  t.conserved = vec("conserved");
  if (has("pressure_tensor")) {
    const core::NdArray p = core::h5_read(path, "pressure_tensor");
    need(p, {f, 3, 3}, "pressure_tensor");
    for (std::size_t k = 0; k < f; ++k) {
      Eigen::Matrix3d m;
      for (int a = 0; a < 3; ++a)
        for (int e = 0; e < 3; ++e) m(a, e) = p.data[(k * 3 + a) * 3 + e];
      t.pressure_tensor.push_back(m);
    }
  }
  for (const auto* v : {&t.kinetic, &t.temperature, &t.pressure, &t.conserved})
    if (v->size() != f) throw InvalidArgument("trajectory '" + path + "': per-frame datasets differ in length");
  return t;
}

// ----------------------------------------------------------------------------------------------------------------
// Driver

namespace {

void log_header(std::ostream& os) {
  os << std::setw(10) << "step" << std::setw(12) << "time/fs" << std::setw(18) << "E_pot/Eh" << std::setw(16)
     << "E_kin/Eh" << std::setw(10) << "T/K" << std::setw(12) << "P/bar" << std::setw(10) << "rho/gcc"
     << std::setw(20) << "conserved/Eh" << '\n';
}

void log_line(std::ostream& os, const Thermo& t) {
  os << std::setw(10) << t.step << std::fixed << std::setprecision(2) << std::setw(12) << t.time_fs
     << std::setprecision(10) << std::setw(18) << t.potential.total() << std::setw(16) << t.kinetic()
     << std::setprecision(2) << std::setw(10) << t.temperature << std::setprecision(1) << std::setw(12) << t.pressure
     << std::setprecision(4) << std::setw(10) << t.density << std::setprecision(12) << std::setw(20) << t.conserved
     << std::defaultfloat << '\n';
}

}  // namespace

MdResult run_md(const System& system, const MdOptions& options, std::ostream* log, Evaluator evaluator) {
  Dynamics dyn(system, options, std::move(evaluator));
  Trajectory traj;
  traj.time_step_fs = options.time_step_fs;
  traj.ensemble = ensemble_name(options.ensemble);
  const bool resume = !options.resume_path.empty();
  if (resume) {
    dyn.set_state(read_restart(options.resume_path, system));
    // Keep the frames written up to the checkpoint (they are flushed together with the restart file).
    if (!options.trajectory_path.empty() && std::filesystem::exists(options.trajectory_path)) {
      Trajectory old = read_trajectory(options.trajectory_path);
      const double t_end = dyn.state().time_fs + 1e-9 * options.time_step_fs;
      std::size_t keep = 0;
      while (keep < old.frames() && old.time_fs[keep] <= t_end) ++keep;
      auto cut = [keep](auto& v) { if (v.size() > keep) v.resize(keep); };
      cut(old.time_fs), cut(old.com), cut(old.rotation), cut(old.box), cut(old.atoms), cut(old.energy);
      cut(old.kinetic), cut(old.temperature), cut(old.pressure), cut(old.pressure_tensor), cut(old.conserved);
      old.time_step_fs = options.time_step_fs;
      traj = std::move(old);
    }
  } else if (!options.initial_velocities.empty()) {
    dyn.set_velocities(options.initial_velocities);
  } else if (options.init_velocities && options.temperature_K > 0) {
    dyn.initialize_velocities();
  }
  MdResult res;
  const bool frames = options.frame_every > 0;
  std::size_t unflushed = 0;
  auto flush = [&] {
    if (!options.trajectory_path.empty() && traj.frames() > 0) traj.write(options.trajectory_path);
    if (!options.restart_path.empty()) write_restart(options.restart_path, dyn.state(), options, dyn.system());
    unflushed = 0;
  };
  auto record = [&](bool frame, bool print) {
    Thermo t = dyn.thermo(true);
    if (frame) {
      traj.append(t, dyn.state(), dyn.system(), options.write_atoms);
      ++unflushed;
    }
    if (print) {
      if (log) log_line(*log, t);
      res.log.push_back(t);
    }
  };
  if (log) log_header(*log);
  // A fresh run records its starting point; a resumed one already has it in the trajectory.
  record(frames && !resume, !resume || options.print_every > 0);
  std::optional<core::Progress> progress;
  if (!options.quiet) progress.emplace("fragmd md", options.steps);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < options.steps; ++k) {
    dyn.advance(1);
    const std::size_t step = dyn.state().step;
    const bool frame = frames && step % options.frame_every == 0;
    const bool print = (options.print_every > 0 && step % options.print_every == 0) || k + 1 == options.steps;
    if (frame || print) record(frame, print);
    if (frame && unflushed >= options.write_every) flush();
    if (progress) progress->tick();
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress) progress->finish();
  flush();
  const double ns = static_cast<double>(options.steps) * options.time_step_fs * 1e-6;
  res.ns_per_day = wall > 0 ? ns / (wall / 86400.0) : 0.0;
  if (log) *log << "performance: " << std::setprecision(4) << res.ns_per_day << " ns/day\n";
  res.final_state = dyn.state();
  return res;
}

}  // namespace tsunagu::fragmd
