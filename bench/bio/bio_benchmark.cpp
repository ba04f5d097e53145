// Benchmarks of tsunagu::bio (issue 7): molecular descriptors of many SMILES and the training of a small-network
// ensemble. Timings are reported, never asserted; the RDKit Python comparison on the very same SMILES file is driven by
// bench/bio/run_bio_bench.py, which also writes the SMILES file (10^5 lines cycled from ESOL + FreeSolv).
//
//   tsunagu_bench_bio --smiles=build/bio-bench/smiles_100000.txt --esol=../shared/data/bio/esol.csv
//                     [--n-train=1000] [--ensemble=20] [--benchmark_filter=...]
//   tsunagu_bench_bio --smiles=FILE --check-rows=2000 --check-out=desc.f64   (no timing: writes the descriptors of the
//                     first rows, the "physchem + Morgan + SMARTS" options, as raw float64 for the driver's RDKit check)
//
// BM_Describe/<columns>/threads:<t>: one bio::describe_many call over every SMILES of the file (parse, canonical SMILES,
//   descriptors, output matrix), columns "physchem" (the 17 named columns) or "physchem+morgan2048+smarts2" (+ Morgan
//   radius 2, 2048 bits, and the two SMARTS counts of kSmarts).
// BM_Train/<cv>/threads:<t>: bio::Model::train of an ensemble of --ensemble networks (TrainOptions::default_mlp())
//   on the first --n-train ESOL molecules (physchem descriptors -> measured logS); "folds:0" = the final networks
//   only, "folds:5x3" = the default repeated CV (each fold: the ensemble, lasso and kNN baselines, permutation
//   importance) followed by the final ensemble.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/bio/descriptors.hpp"
#include "tsunagu/bio/model.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/table.hpp"

namespace {

namespace fs = std::filesystem;
using namespace tsunagu;
using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

// The two SMARTS of the "+smarts2" option (bench/bio/rdkit_peer.py uses the same patterns).
const std::vector<bio::SmartsPattern> kSmarts = {{"amide", "C(=O)N"}, {"hydroxyl", "[OX2H]"}};
constexpr int kMorganBits = 2048;
constexpr const char* kTarget = "logS_measured_mol_L";

struct Config {
  std::string smiles_file;
  std::string esol;
  std::size_t n_train = 1000;
  int ensemble = 20;
  std::size_t check_rows = 0;
  std::string check_out;
} cfg;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  if (out.empty()) throw std::runtime_error(path + ": no SMILES");
  return out;
}

const std::vector<std::string>& smiles() {
  static std::once_flag once;
  static std::vector<std::string> s;
  std::call_once(once, [] { s = read_lines(cfg.smiles_file); });
  return s;
}

bio::DescriptorOptions describe_options(bool full, unsigned threads) {
  bio::DescriptorOptions o;
  o.threads = threads;
  if (full) {
    o.morgan_bits = kMorganBits;
    o.morgan_radius = 2;
    o.smarts = kSmarts;
  }
  return o;
}

// ESOL -> Dataset: physchem descriptors of the first n_train molecules (file order), constant columns dropped (as
// bio::dataset_from_table would), target = measured logS. Built once, untimed.
struct TrainSet {
  bio::Dataset data;
  std::size_t dropped_columns = 0;
};

const TrainSet& train_set() {
  static std::once_flag once;
  static TrainSet t;
  std::call_once(once, [] {
    const core::Table esol = core::read_csv(cfg.esol);
    const std::vector<std::string> smi = esol.text_column("smiles");
    const core::NumericData y = esol.numeric({kTarget});
    const std::size_t n = std::min(cfg.n_train, smi.size());
    const std::vector<std::string> first(smi.begin(), smi.begin() + static_cast<std::ptrdiff_t>(n));
    const bio::MoleculeDescriptors m = bio::describe_many(first, describe_options(false, 0));
    std::vector<Index> keep;
    for (Index j = 0; j < m.X.cols(); ++j) {
      if (m.X.col(j).maxCoeff() > m.X.col(j).minCoeff()) {
        keep.push_back(j);
        t.data.features.push_back(m.names[static_cast<std::size_t>(j)]);
      } else {
        ++t.dropped_columns;
      }
    }
    t.data.X.resize(m.X.rows(), static_cast<Index>(keep.size()));
    for (std::size_t j = 0; j < keep.size(); ++j) t.data.X.col(static_cast<Index>(j)) = m.X.col(keep[j]);
    t.data.y = y.values.col(0).head(static_cast<Index>(n));
    t.data.target = kTarget;
    for (std::size_t i = 0; i < n; ++i) t.data.ids.push_back("row " + std::to_string(i + 1));
  });
  return t;
}

void register_benchmarks() {
  if (!cfg.smiles_file.empty())
    for (const bool full : {false, true})
      for (unsigned t : {1u, 2u}) {
        const std::string label = full ? "physchem+morgan" + std::to_string(kMorganBits) + "+smarts2" : "physchem";
        benchmark::RegisterBenchmark(("BM_Describe/" + label + "/threads:" + std::to_string(t)).c_str(),
                                     [full, t](benchmark::State& state) {
                                       const std::vector<std::string>& s = smiles();
                                       const bio::DescriptorOptions o = describe_options(full, t);
                                       bio::MoleculeDescriptors m;
                                       for (auto _ : state) {
                                         m = bio::describe_many(s, o);
                                         benchmark::DoNotOptimize(m.X.data());
                                       }
                                       state.counters["molecules_per_s"] = benchmark::Counter(
                                           static_cast<double>(s.size()),
                                           benchmark::Counter::kIsIterationInvariantRate);
                                       state.counters["molecules"] = static_cast<double>(s.size());
                                       state.counters["rows"] = static_cast<double>(m.X.rows());
                                       state.counters["width"] = static_cast<double>(m.X.cols());
                                       state.counters["finite"] = m.X.allFinite() ? 1 : 0;
                                       // A cheap fingerprint of the result (column sums of the physchem part),
                                       // compared between thread counts by the driver.
                                       state.counters["checksum"] = m.X.leftCols(17).sum();
                                     })
            ->Unit(benchmark::kSecond)
            ->Iterations(1)
            ->MeasureProcessCPUTime()
            ->UseRealTime();
      }

  if (!cfg.esol.empty())
    for (const bool cv : {false, true})
      for (unsigned t : {1u, 2u}) {
        const std::string label = cv ? "folds:5x3" : "folds:0";
        benchmark::RegisterBenchmark(
            ("BM_Train/ensemble:" + std::to_string(cfg.ensemble) + "/" + label + "/threads:" + std::to_string(t))
                .c_str(),
            [cv, t](benchmark::State& state) {
              const TrainSet& ts = train_set();
              bio::TrainOptions o;
              o.ensemble = cfg.ensemble;
              o.folds = cv ? 5 : 0;
              o.repeats = 3;
              o.threads = t;
              o.seed = 0;
              bio::Model model;
              for (auto _ : state) {
                model = bio::Model::train(ts.data, o);
                benchmark::DoNotOptimize(&model);
              }
              double epochs = 0, member_s = 0, max_member_s = 0;
              for (const nn::Mlp& m : model.members()) {
                epochs += m.history().epochs_run;
                member_s += m.history().seconds;
                max_member_s = std::max(max_member_s, m.history().seconds);
              }
              const double k = static_cast<double>(model.members().size());
              // Load balance of the final ensemble: TrainOptions::threads splits the members into `t` contiguous
              // chunks (core::parallel_for); epochs vary with early stopping. Largest chunk's epochs / (all / t).
              {
                const std::size_t nm = model.members().size();
                std::vector<double> chunk(t, 0.0);
                for (std::size_t i = 0; i < nm; ++i)
                  chunk[std::min<std::size_t>(t - 1, i * t / nm)] += model.members()[i].history().epochs_run;
                const double all = std::accumulate(chunk.begin(), chunk.end(), 0.0);
                state.counters["chunk_epoch_imbalance"] =
                    all > 0 ? *std::max_element(chunk.begin(), chunk.end()) / (all / static_cast<double>(t)) : 1.0;
              }
              state.counters["n"] = static_cast<double>(ts.data.X.rows());
              state.counters["p"] = static_cast<double>(ts.data.X.cols());
              state.counters["members"] = k;
              state.counters["networks_fitted"] = k * (cv ? 1 + 5 * 3 : 1);
              state.counters["mean_epochs"] = epochs / k;
              state.counters["sum_member_fit_s"] = member_s;  // final ensemble only
              state.counters["max_member_fit_s"] = max_member_s;
              const bio::Prediction p = model.predict(ts.data.X);
              const VectorXd r = p.mean - ts.data.y;
              state.counters["train_rmse"] = std::sqrt(r.squaredNorm() / static_cast<double>(r.size()));
              if (cv) {
                state.counters["cv_r2"] = model.cv("model").r2_spread().mean;
                state.counters["cv_rmse"] = model.cv("model").rmse_spread().mean;
                state.counters["cv_r2_lasso"] = model.cv("sparse").r2_spread().mean;
                state.counters["cv_r2_knn"] = model.cv("knn").r2_spread().mean;
              }
            })
            ->Unit(benchmark::kSecond)
            ->Iterations(1)
            ->MeasureProcessCPUTime()
            ->UseRealTime();
      }
}

// --check-rows/--check-out: descriptors ("physchem + Morgan + SMARTS") of the first rows as raw little-endian float64,
// row-major, for the driver's comparison with RDKit in Python.
int write_check() {
  const std::vector<std::string>& s = smiles();
  const std::size_t n = std::min(cfg.check_rows, s.size());
  const std::vector<std::string> first(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
  const bio::MoleculeDescriptors m = bio::describe_many(first, describe_options(true, 0));
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> R = m.X;
  std::ofstream out(cfg.check_out, std::ios::binary);
  out.write(reinterpret_cast<const char*>(R.data()), static_cast<std::streamsize>(R.size() * sizeof(double)));
  if (!out) throw std::runtime_error("cannot write " + cfg.check_out);
  std::ofstream names(cfg.check_out + ".names");
  for (const std::string& c : m.names) names << c << '\n';
  std::ofstream canon(cfg.check_out + ".canonical");
  for (const std::string& c : m.canonical) canon << c << '\n';
  std::cout << R.rows() << " " << R.cols() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (const char* e = std::getenv("TSUNAGU_BENCH_BIO_ESOL")) cfg.esol = e;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      const std::string f = std::string(flag) + "=";
      if (a.rfind(f, 0) == 0) return a.substr(f.size());
      return std::nullopt;
    };
    if (auto v = value("--smiles")) cfg.smiles_file = *v;
    else if (auto v = value("--esol")) cfg.esol = *v;
    else if (auto v = value("--n-train")) cfg.n_train = std::stoul(*v);
    else if (auto v = value("--ensemble")) cfg.ensemble = std::stoi(*v);
    else if (auto v = value("--check-rows")) cfg.check_rows = std::stoul(*v);
    else if (auto v = value("--check-out")) cfg.check_out = *v;
    else args.push_back(argv[i]);
  }
  tsunagu::core::set_progress_enabled(false);
  try {
    if (!cfg.check_out.empty()) {
      if (cfg.smiles_file.empty()) throw std::runtime_error("--check-out needs --smiles");
      return write_check();
    }
    if (cfg.smiles_file.empty() && cfg.esol.empty())
      throw std::runtime_error("nothing to run: give --smiles=FILE (descriptors) and/or --esol=esol.csv (training)");
    register_benchmarks();
  } catch (const std::exception& e) {
    std::cerr << "tsunagu_bench_bio: " << e.what() << "\n";
    return 1;
  }
  int nargs = static_cast<int>(args.size());
  benchmark::Initialize(&nargs, args.data());
  if (benchmark::ReportUnrecognizedArguments(nargs, args.data())) return 1;
  benchmark::AddCustomContext("smiles_file", cfg.smiles_file.empty() ? "none" : cfg.smiles_file);
  benchmark::AddCustomContext("esol", cfg.esol.empty() ? "none" : cfg.esol);
  benchmark::AddCustomContext("n_train", std::to_string(cfg.n_train));
  benchmark::AddCustomContext("ensemble", std::to_string(cfg.ensemble));
  if (!cfg.esol.empty()) {
    try {
      const TrainSet& ts = train_set();  // built here (untimed) so that its columns can be reported
      std::string names;
      for (const std::string& f : ts.data.features) names += (names.empty() ? "" : ",") + f;
      benchmark::AddCustomContext("train_features", names);
      benchmark::AddCustomContext("train_rows", std::to_string(ts.data.X.rows()));
      benchmark::AddCustomContext("train_constant_columns_dropped", std::to_string(ts.dropped_columns));
    } catch (const std::exception& e) {
      std::cerr << "tsunagu_bench_bio: " << e.what() << "\n";
      return 1;
    }
  }
  try {
    benchmark::RunSpecifiedBenchmarks();
  } catch (const std::exception& e) {
    std::cerr << "tsunagu_bench_bio: " << e.what() << "\n";
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
