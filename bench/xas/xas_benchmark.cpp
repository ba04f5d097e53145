// Benchmarks of the XAS pipeline (issue 6): structure descriptors, LibTorch MLP training throughput and the
// latency of one structure -> spectrum prediction.
//
//   tsunagu_bench_xas [--n-structures=N] [--seed=S] [--train-data=DIR] [--fe-data=DIR] [--model=FILE]
//                     [--predict-epochs=E] [Google Benchmark flags...]
//
// Structures (built in, seeded; generated on first use, outside the timings): N (default 10^4) "random-ish" structures
// of 40-60 atoms (mean 50) per set:
//   * crystal:  periodic, triclinic cells (a, b, c within ±20 %, angles 90° ± 15°) at 10-16 Å^3 per atom; atoms on a
//               jittered grid (no two closer than ~1.3 Å); Fe at site 0, O on ~55 % of the sites, the rest 1-2
//               cations of {Li, Mg, Ti, Mn, Co} (and more Fe): 7 elements in all;
//   * molecule: non-periodic, Fe at the origin (site 0) and the rest drawn uniformly in an ellipsoid (axes within
//               ±25 %) at 0.08 atoms/Å^3 with minimum distances 1.0 Å (1.8 Å to Fe); H 45 %, C 33 %, N 10 %, O 8 %,
//               S, Cl, P 2/1/1 %: 8 elements in all (the box of a molecule as the XYZ reader makes it).
// The absorbing site is site 0 (Fe) everywhere.
//
// Benchmarks (names carry the parameters; one iteration each for the large ones, the driver repeats processes; CPU
// time of BM_Describe and BM_Train is the whole process's, so cpu_time / real_time = cores kept busy):
//   BM_Describe/<set>/<kinds>/threads:<t>   features::describe_many on the N structures of <set> with the spec
//                                           fitted on them (fit_spec outside the timing); kinds: "default:<kinds>"
//                                           = xas::TrainOptions::default_descriptors(), site+composition,
//                                           composition, prdf, coulomb (library default parameters); counters
//                                           structures_per_s, width (descriptor length), mean_atoms
//   BM_Train/threads:<t>                    nn::Mlp::fit of the benchmark network (97 -> 256 -> 256 -> 226 SiLU, Adam
//                                           lr 1e-3, batch 32, constant lr, no dropout/weight decay/validation,
//                                           float32) on --train-data (else seeded synthetic data of 1439 x 97 -> 226);
//                                           counters samples_per_s (the library's own training-loop rate: samples x
//                                           epochs / loop time), fit_samples_per_s (whole fit() incl. scaling and
//                                           copies), epochs, final_loss
//   BM_Predict/<set>                        xas::Model::predict on ONE structure (descriptors + network), cycling
//                                           through the set: fe_complex = the test structures of --fe-data
//                                           (XANESNET Fe K-edge; model trained here on its xyz_train, or --model),
//                                           crystal / molecule = 50-atom structures of the generator (model trained
//                                           here on 300 generated structures with synthetic spectra)
//   BM_PredictDescribe/<set>                its descriptor part alone (features::describe, one structure)
//   BM_PredictNetwork/<set>                 its network part alone (nn::Mlp::predict, one row, LibTorch)
//   BM_PredictNetworkEigen/<set>            nn::Mlp::predict_reference (plain Eigen forward pass), one row
//
// --train-data=DIR reads DIR/manifest.json written by bench/xas/run_xas_bench.py: {"n", "p", "q", "X", "Y",
// "epochs", "batch_size", "hidden", "learning_rate", "seed", "threads"}; X and Y raw little-endian float64, row-major
// (n*p and n*q values) -- the very bytes bench/xas/torch_peer.py trains the PyTorch twin on.
// --fe-data=DIR (or $TSUNAGU_BENCH_XAS_FE): a XANESNET folder with xyz_train/xanes_train/xyz_test (absent: the
// fe_complex benchmarks are not registered). --model=FILE: predict with this .tsx model (trained on structures with
// Fe as the absorber) instead of training one on DIR/xyz_train.
//
// The environment variable TSUNAGU_NN_KERNELS=torch makes the nn backend use LibTorch's own Linear/Adam kernels
// instead of Eigen's (read once per process); the driver uses it for a second tsunagu training row.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/LU>
#include <nlohmann/json.hpp>

#include "tsunagu/core/progress.hpp"
#include "tsunagu/features/descriptors.hpp"
#include "tsunagu/nn/mlp.hpp"
#include "tsunagu/structure/crystal.hpp"
#include "tsunagu/xas/data.hpp"
#include "tsunagu/xas/model.hpp"

namespace {

namespace fs = std::filesystem;
namespace ft = tsunagu::features;
namespace nn = tsunagu::nn;
namespace xas = tsunagu::xas;
using tsunagu::structure::Crystal;
using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using json = nlohmann::json;

struct Config {
  std::size_t n_structures = 10000;
  std::uint64_t seed = 2024;
  std::string train_data, fe_data, model;
  int predict_epochs = 40;
};
Config cfg;

// splitmix64 + Box–Muller: identical streams whatever the standard library.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() { return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * std::numbers::pi * uniform()); }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b) { return a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL); }

void set_labels(Crystal& c) { c.labels = c.symbols(); }

// ---- structure generators -------------------------------------------------------------------------------------------

Crystal make_crystal(std::uint64_t seed, std::size_t index, int n_atoms = 0) {
  Rng rng{mix(seed, 2 * index + 1)};
  const int n = n_atoms > 0 ? n_atoms : 40 + static_cast<int>(rng.below(21));
  const double vpa = rng.uniform(10.0, 16.0);
  const double fa = std::exp(rng.uniform(-0.2, 0.2)), fb = std::exp(rng.uniform(-0.2, 0.2)),
               fc = std::exp(rng.uniform(-0.2, 0.2));
  Eigen::Matrix3d L = tsunagu::structure::lattice_from_parameters(fa, fb, fc, 90 + rng.uniform(-15, 15),
                                                                  90 + rng.uniform(-15, 15), 90 + rng.uniform(-15, 15));
  L *= std::cbrt(n * vpa / std::abs(L.determinant()));
  // Grid of g^3 >= 1.25 n points; n of them (random), jittered by ±10 % of the spacing.
  const int g = static_cast<int>(std::ceil(std::cbrt(1.25 * n)));
  std::vector<int> pts(static_cast<std::size_t>(g * g * g));
  for (std::size_t k = 0; k < pts.size(); ++k) pts[k] = static_cast<int>(k);
  for (int k = 0; k < n; ++k) std::swap(pts[static_cast<std::size_t>(k)], pts[k + rng.below(pts.size() - k)]);
  Crystal c;
  c.lattice = L;
  c.frac.resize(n, 3);
  for (int k = 0; k < n; ++k) {
    const int p = pts[static_cast<std::size_t>(k)];
    const int idx[3] = {p / (g * g), (p / g) % g, p % g};
    for (int d = 0; d < 3; ++d) c.frac(k, d) = (idx[d] + 0.5 + rng.uniform(-0.1, 0.1)) / g;
  }
  // Fe at site 0; O on ~55 %; cations: 1-2 of {Li, Mg, Ti, Mn, Co}, or Fe.
  static const int cations[] = {3, 12, 22, 25, 27};
  const int c1 = cations[rng.below(5)], c2 = rng.uniform() < 0.5 ? c1 : cations[rng.below(5)];
  c.numbers.resize(static_cast<std::size_t>(n));
  c.numbers[0] = 26;
  for (int k = 1; k < n; ++k) {
    const double u = rng.uniform();
    c.numbers[static_cast<std::size_t>(k)] = u < 0.55 ? 8 : u < 0.75 ? c1 : u < 0.9 ? c2 : 26;
  }
  c.periodic = true;
  c.source = "crystal-" + std::to_string(index);
  set_labels(c);
  return c;
}

Crystal make_molecule(std::uint64_t seed, std::size_t index, int n_atoms = 0) {
  Rng rng{mix(seed, 2 * index + 2)};
  const int n = n_atoms > 0 ? n_atoms : 40 + static_cast<int>(rng.below(21));
  const double R = std::cbrt(3.0 * (n / 0.08) / (4.0 * std::numbers::pi));
  double ax[3] = {std::exp(rng.uniform(-0.25, 0.25)), std::exp(rng.uniform(-0.25, 0.25)),
                  std::exp(rng.uniform(-0.25, 0.25))};
  const double norm = std::cbrt(ax[0] * ax[1] * ax[2]);
  for (double& a : ax) a *= R / norm;
  MatrixXd cart = MatrixXd::Zero(n, 3);
  int placed = 1;
  for (int attempt = 0; placed < n; ++attempt) {
    if (attempt > 200000) throw std::runtime_error("make_molecule: cannot place the atoms");
    Eigen::RowVector3d x(rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1));
    if (x.squaredNorm() > 1) continue;
    for (int d = 0; d < 3; ++d) x(d) *= ax[d];
    bool ok = x.norm() >= 1.8;
    for (int k = 1; ok && k < placed; ++k) ok = (cart.row(k) - x).norm() >= 1.0;
    if (ok) cart.row(placed++) = x;
  }
  Crystal c;
  c.numbers.resize(static_cast<std::size_t>(n));
  c.numbers[0] = 26;
  for (int k = 1; k < n; ++k) {
    const double u = rng.uniform();
    c.numbers[static_cast<std::size_t>(k)] =
        u < 0.45 ? 1 : u < 0.78 ? 6 : u < 0.88 ? 7 : u < 0.96 ? 8 : u < 0.98 ? 16 : u < 0.99 ? 17 : 15;
  }
  // The XYZ reader's box: extent + 10 Å per axis.
  const Eigen::Vector3d extent = (cart.colwise().maxCoeff() - cart.colwise().minCoeff()).transpose();
  c.lattice = (extent.array() + 10.0).matrix().asDiagonal();
  c.frac = cart * c.lattice.inverse();
  c.periodic = false;
  c.source = "molecule-" + std::to_string(index);
  set_labels(c);
  return c;
}

struct StructureSet {
  std::vector<Crystal> structures;
  std::vector<std::size_t> sites;  // all 0
  double mean_atoms = 0;
};

const StructureSet& structure_set(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<StructureSet>> sets;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = sets[name];
  if (!slot) {
    slot = std::make_unique<StructureSet>();
    slot->structures.reserve(cfg.n_structures);
    double atoms = 0;
    for (std::size_t i = 0; i < cfg.n_structures; ++i) {
      slot->structures.push_back(name == "crystal" ? make_crystal(cfg.seed, i) : make_molecule(cfg.seed, i));
      atoms += static_cast<double>(slot->structures.back().n_sites());
    }
    slot->sites.assign(cfg.n_structures, 0);
    slot->mean_atoms = atoms / static_cast<double>(cfg.n_structures);
  }
  return *slot;
}

// ---- training data ------------------------------------------------------------------------------------------------

std::vector<double> read_f64(const fs::path& file, std::size_t count) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + file.string());
  std::vector<double> v(count);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(double)));
  if (static_cast<std::size_t>(in.gcount()) != count * sizeof(double))
    throw std::runtime_error(file.string() + ": expected " + std::to_string(count) + " float64 values");
  return v;
}

struct TrainData {
  MatrixXd X, Y;
  nn::MlpOptions options;
  std::vector<int> threads{1, 2};
  std::string source;
};

nn::MlpOptions bench_mlp() {
  nn::MlpOptions o;
  o.hidden = {256, 256};
  o.activation = nn::Activation::Silu;
  o.dropout = 0.0;
  o.weight_decay = 0.0;
  o.learning_rate = 1e-3;
  o.schedule = nn::LrSchedule::Constant;
  o.epochs = 10;
  o.batch_size = 32;
  o.patience = 0;
  o.validation_fraction = 0.0;
  o.seed = 0;
  o.device = "cpu";
  return o;
}

const TrainData& train_data() {
  static std::once_flag once;
  static TrainData d;
  std::call_once(once, [] {
    d.options = bench_mlp();
    if (!cfg.train_data.empty()) {
      const fs::path dir = cfg.train_data;
      std::ifstream in(dir / "manifest.json");
      if (!in) throw std::runtime_error("cannot open " + (dir / "manifest.json").string());
      const json m = json::parse(in);
      const auto n = m.at("n").get<Index>(), p = m.at("p").get<Index>(), q = m.at("q").get<Index>();
      using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      const auto xs = read_f64(dir / m.at("X").get<std::string>(), static_cast<std::size_t>(n * p));
      const auto ys = read_f64(dir / m.at("Y").get<std::string>(), static_cast<std::size_t>(n * q));
      d.X = Eigen::Map<const RowMat>(xs.data(), n, p);
      d.Y = Eigen::Map<const RowMat>(ys.data(), n, q);
      d.options.epochs = m.value("epochs", d.options.epochs);
      d.options.batch_size = m.value("batch_size", d.options.batch_size);
      d.options.hidden = m.value("hidden", d.options.hidden);
      d.options.learning_rate = m.value("learning_rate", d.options.learning_rate);
      d.options.seed = m.value("seed", std::uint64_t{0});
      d.threads = m.value("threads", d.threads);
      d.source = m.value("source", dir.string());
    } else {
      // Synthetic stand-in of the V K-edge table: 1439 x 97 descriptors, spectra of 226 points that depend on them.
      Rng rng{mix(cfg.seed, 77)};
      const Index n = 1439, p = 97, q = 226;
      d.X.resize(n, p);
      for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < p; ++j) d.X(i, j) = rng.normal();
      MatrixXd A(p, 8);
      for (Index i = 0; i < A.size(); ++i) A.data()[i] = rng.normal() / std::sqrt(static_cast<double>(p));
      const MatrixXd Z = (d.X * A).array().tanh().matrix();
      d.Y.resize(n, q);
      for (Index k = 0; k < q; ++k) {
        const double e = static_cast<double>(k) / (q - 1);
        for (Index i = 0; i < n; ++i)
          d.Y(i, k) = 1.0 / (1.0 + std::exp(-(e - 0.3 - 0.05 * Z(i, 0)) * 40.0)) +
                      0.3 * Z(i, 1) * std::exp(-std::pow((e - 0.35 - 0.05 * Z(i, 2)) / 0.05, 2)) +
                      0.1 * Z(i, 3) * std::sin(12 * e + Z(i, 4)) + 0.01 * rng.normal();
      }
      d.source = "built-in synthetic 1439 x 97 -> 226";
    }
  });
  return d;
}

// ---- prediction models ---------------------------------------------------------------------------------------------

struct PredictCase {
  xas::Model model;
  std::vector<Crystal> structures;  // predicted one at a time, cycling
  std::vector<std::size_t> sites;
};

// A model trained on generated structures with synthetic spectra (smooth functions of the local structure).
std::unique_ptr<PredictCase> synthetic_case(const std::string& set) {
  auto pc = std::make_unique<PredictCase>();
  xas::Dataset data;
  data.format = xas::DataFormat::Xanesnet;
  const int n_train = 300;
  const Index q = 226;
  const VectorXd energy = VectorXd::LinSpaced(q, 7100.0, 7212.5);
  for (int i = 0; i < n_train; ++i) {
    Crystal c = set == "crystal" ? make_crystal(cfg.seed + 1, static_cast<std::size_t>(i))
                                 : make_molecule(cfg.seed + 1, static_cast<std::size_t>(i));
    // "Spectrum": an edge whose position and white line follow the number of neighbours within 2.5 Å of Fe.
    int near = 0;
    for (std::size_t j = 1; j < c.n_sites(); ++j) near += c.distance(0, j) < 2.5 ? 1 : 0;
    xas::Record r;
    r.id = r.group = r.source = c.source;
    r.absorber = 0;
    r.element = "Fe";
    r.edge = "K";
    r.energy = energy;
    r.mu.resize(q);
    for (Index k = 0; k < q; ++k) {
      const double e = energy(k) - 7120.0 - 0.5 * near;
      r.mu(k) = 1.0 / (1.0 + std::exp(-e / 1.5)) + (0.3 + 0.05 * near) * std::exp(-std::pow((e - 8.0) / 4.0, 2));
    }
    r.structure = std::move(c);
    data.records.push_back(std::move(r));
  }
  xas::TrainOptions o;
  o.cv_folds = 0;
  o.tune_trials = 0;
  o.threads = 1;
  o.mlp.epochs = cfg.predict_epochs;
  o.mlp.patience = 0;
  pc->model = xas::Model::train(data, o);
  for (int i = 0; i < 64; ++i) {
    pc->structures.push_back(set == "crystal" ? make_crystal(cfg.seed + 2, static_cast<std::size_t>(i), 50)
                                              : make_molecule(cfg.seed + 2, static_cast<std::size_t>(i), 50));
    pc->sites.push_back(0);
  }
  return pc;
}

std::unique_ptr<PredictCase> fe_case() {
  auto pc = std::make_unique<PredictCase>();
  const fs::path dir = cfg.fe_data;
  xas::LoadOptions lo;
  lo.format = xas::DataFormat::Xanesnet;
  lo.absorber = "Fe";
  if (!cfg.model.empty()) {
    pc->model = xas::Model::load(cfg.model);
  } else {
    const xas::Dataset train = xas::load_dataset(dir / "xyz_train", lo);
    xas::TrainOptions o;
    o.cv_folds = 0;
    o.tune_trials = 0;
    o.threads = 1;
    o.mlp.epochs = cfg.predict_epochs;
    o.mlp.patience = 0;
    pc->model = xas::Model::train(train, o);
  }
  const xas::Dataset test = xas::load_dataset(dir / "xyz_test", lo);
  for (const auto& r : test.records) {
    pc->structures.push_back(*r.structure);
    pc->sites.push_back(r.absorber);
  }
  return pc;
}

const PredictCase& predict_case(const std::string& set) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<PredictCase>> cases;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cases[set];
  if (!slot) slot = set == "fe_complex" ? fe_case() : synthetic_case(set);
  return *slot;
}

// ---- benchmarks ------------------------------------------------------------------------------------------------------

std::string kinds_label(const std::vector<ft::DescriptorKind>& kinds) {
  std::string out;
  for (ft::DescriptorKind k : kinds) out += (out.empty() ? "" : "+") + std::string(ft::descriptor_kind_name(k));
  return out;
}

// The descriptor settings benchmarked: the XAS model's default (TrainOptions::default_descriptors(), labelled
// "default:<kinds>"), then site+composition, composition, prdf and coulomb with the library's default parameters
// (each skipped when it equals the XAS default's kinds).
std::vector<std::pair<std::string, ft::DescriptorSpec>> descriptor_specs() {
  std::vector<std::pair<std::string, ft::DescriptorSpec>> out;
  const ft::DescriptorSpec def = xas::TrainOptions::default_descriptors();
  out.emplace_back("default:" + kinds_label(def.kinds), def);
  const std::vector<std::vector<ft::DescriptorKind>> others = {
      {ft::DescriptorKind::Site, ft::DescriptorKind::Composition},
      {ft::DescriptorKind::Composition},
      {ft::DescriptorKind::Prdf},
      {ft::DescriptorKind::Coulomb}};
  for (const auto& kinds : others) {
    if (kinds == def.kinds) continue;
    ft::DescriptorSpec s;
    s.kinds = kinds;
    out.emplace_back(kinds_label(kinds), s);
  }
  return out;
}

void register_benchmarks() {
  for (const std::string set : {"crystal", "molecule"})
    for (const auto& [label, base] : descriptor_specs())
      for (unsigned t : {1u, 2u})
        benchmark::RegisterBenchmark(
            ("BM_Describe/" + set + "/" + label + "/threads:" + std::to_string(t)).c_str(),
            [set, base = base, t](benchmark::State& state) {
              const StructureSet& s = structure_set(set);
              // Sites are passed whatever the kinds: kinds that are not site-centred ignore them.
              const ft::DescriptorSpec spec = ft::fit_spec(base, s.structures, s.sites);
              MatrixXd X;
              for (auto _ : state) {
                X = ft::describe_many(spec, s.structures, s.sites, t);
                benchmark::DoNotOptimize(X.data());
              }
              state.counters["structures_per_s"] = benchmark::Counter(
                  static_cast<double>(s.structures.size()), benchmark::Counter::kIsIterationInvariantRate);
              state.counters["structures"] = static_cast<double>(s.structures.size());
              state.counters["width"] = static_cast<double>(X.cols());
              state.counters["mean_atoms"] = s.mean_atoms;
              state.counters["finite"] = X.allFinite() ? 1 : 0;
            })
            ->Unit(benchmark::kSecond)
            ->Iterations(1)
            ->MeasureProcessCPUTime()
            ->UseRealTime();

  for (int t : {1, 2})
    benchmark::RegisterBenchmark(("BM_Train/threads:" + std::to_string(t)).c_str(), [t](benchmark::State& state) {
      const TrainData& d = train_data();
      nn::MlpOptions o = d.options;
      o.threads = t;
      double loop_rate = 0, fit_seconds = 0;
      nn::Mlp net;
      for (auto _ : state) {
        net = nn::Mlp::fit(d.X, d.Y, o);
        loop_rate = net.history().samples_per_second;
        fit_seconds = net.history().seconds;
      }
      const double samples = static_cast<double>(d.X.rows()) * net.history().epochs_run;
      state.counters["samples_per_s"] = loop_rate;
      state.counters["fit_samples_per_s"] = fit_seconds > 0 ? samples / fit_seconds : 0;
      state.counters["epochs"] = net.history().epochs_run;
      state.counters["n_train"] = static_cast<double>(d.X.rows());
      state.counters["final_loss"] = net.history().train_loss.back();
      state.counters["first_loss"] = net.history().train_loss.front();
    })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();

  std::vector<std::string> sets = {"crystal", "molecule"};
  if (!cfg.fe_data.empty() && fs::exists(fs::path(cfg.fe_data) / "xyz_test")) sets.insert(sets.begin(), "fe_complex");
  for (const std::string& set : sets) {
    benchmark::RegisterBenchmark(("BM_Predict/" + set).c_str(), [set](benchmark::State& state) {
      const PredictCase& pc = predict_case(set);
      std::size_t i = 0;
      double atoms = 0;
      for (auto _ : state) {
        const std::size_t k = i++ % pc.structures.size();
        const MatrixXd s = pc.model.predict({pc.structures[k]}, {pc.sites[k]});
        benchmark::DoNotOptimize(s.data());
        atoms += static_cast<double>(pc.structures[k].n_sites());
      }
      state.counters["mean_atoms"] = atoms / static_cast<double>(state.iterations());
      state.counters["features"] = static_cast<double>(pc.model.network().n_inputs());
      state.counters["mesh_points"] = pc.model.mesh().n;
    })->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.5);
    benchmark::RegisterBenchmark(("BM_PredictDescribe/" + set).c_str(), [set](benchmark::State& state) {
      const PredictCase& pc = predict_case(set);
      std::size_t i = 0;
      for (auto _ : state) {
        const std::size_t k = i++ % pc.structures.size();
        const VectorXd x = ft::describe(pc.model.descriptors(), pc.structures[k], pc.sites[k]);
        benchmark::DoNotOptimize(x.data());
      }
    })->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.3);
    for (const bool eigen : {false, true})
      benchmark::RegisterBenchmark(((eigen ? "BM_PredictNetworkEigen/" : "BM_PredictNetwork/") + set).c_str(),
                                   [set, eigen](benchmark::State& state) {
                                     const PredictCase& pc = predict_case(set);
                                     const nn::Mlp& net = pc.model.network();
                                     const MatrixXd X =
                                         ft::describe(pc.model.descriptors(), pc.structures[0], pc.sites[0])
                                             .transpose();
                                     for (auto _ : state) {
                                       const MatrixXd y = eigen ? net.predict_reference(X) : net.predict(X);
                                       benchmark::DoNotOptimize(y.data());
                                     }
                                   })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime()
          ->MinTime(0.3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (const char* e = std::getenv("TSUNAGU_BENCH_XAS_FE")) cfg.fe_data = e;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      const std::string f = std::string(flag) + "=";
      if (a.rfind(f, 0) == 0) return a.substr(f.size());
      return std::nullopt;
    };
    if (auto v = value("--n-structures")) cfg.n_structures = std::stoul(*v);
    else if (auto v = value("--seed")) cfg.seed = std::stoull(*v);
    else if (auto v = value("--train-data")) cfg.train_data = *v;
    else if (auto v = value("--fe-data")) cfg.fe_data = *v;
    else if (auto v = value("--model")) cfg.model = *v;
    else if (auto v = value("--predict-epochs")) cfg.predict_epochs = std::stoi(*v);
    else args.push_back(argv[i]);
  }
  tsunagu::core::set_progress_enabled(false);
  try {
    register_benchmarks();
  } catch (const std::exception& e) {
    std::cerr << "tsunagu_bench_xas: " << e.what() << "\n";
    return 1;
  }
  int nargs = static_cast<int>(args.size());
  benchmark::Initialize(&nargs, args.data());
  if (benchmark::ReportUnrecognizedArguments(nargs, args.data())) return 1;
  benchmark::AddCustomContext("n_structures", std::to_string(cfg.n_structures));
  benchmark::AddCustomContext("seed", std::to_string(cfg.seed));
  benchmark::AddCustomContext("train_data", cfg.train_data.empty() ? "built-in synthetic" : cfg.train_data);
  benchmark::AddCustomContext("fe_data", cfg.fe_data.empty() ? "none" : cfg.fe_data);
  benchmark::AddCustomContext("nn_cuda", nn::cuda_available() ? "yes" : "no");
  try {
    benchmark::RunSpecifiedBenchmarks();
  } catch (const std::exception& e) {
    std::cerr << "tsunagu_bench_xas: " << e.what() << "\n";
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
