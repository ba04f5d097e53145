#include "tsunagu/xas/model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tsunagu/core/error.hpp"
#include "tsunagu/structure/formats.hpp"

namespace fs = std::filesystem;
using namespace tsunagu;
using namespace tsunagu::xas;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("tsunagu_xas_model_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A table whose spectra are a known smooth function of the descriptors: a Gaussian white line at 7110 + 4 d0 eV
// with width 2 + d1 on an edge step, on 60 points 7100..7130 eV; 30 materials of 3 spectra each. A network must
// beat the mean spectrum on it by a wide margin.
fs::path write_synthetic_table(const fs::path& dir, int materials = 30, int per = 3, std::uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const fs::path p = dir / "synthetic.csv";
  std::ofstream f(p);
  f << "id,group";
  for (int k = 0; k < 4; ++k) f << ",d" << k;
  for (int k = 0; k < 60; ++k) f << ",s" << k;
  f << "\n";
  f.precision(10);
  for (int m = 0; m < materials; ++m) {
    const double base0 = u(rng), base1 = u(rng);
    for (int r = 0; r < per; ++r) {
      const double d0 = base0 + 0.05 * u(rng), d1 = base1 + 0.05 * u(rng), d2 = u(rng), d3 = u(rng);
      f << "m" << m << "_" << r << ",m" << m << "," << d0 << "," << d1 << "," << d2 << "," << d3;
      for (int k = 0; k < 60; ++k) {
        const double e = 7100.0 + 30.0 * k / 59.0;
        const double c = 7110.0 + 4.0 * d0, w = 2.0 + 0.8 * d1;
        const double y = 1.0 / (1.0 + std::exp(-(e - 7108.0))) + 1.5 * std::exp(-0.5 * (e - c) * (e - c) / (w * w));
        f << "," << y;
      }
      f << "\n";
    }
  }
  return p;
}

LoadOptions table_options() {
  LoadOptions o;
  o.format = DataFormat::Table;
  o.table_mesh = parse_mesh("7100:7130:60");
  return o;
}

TrainOptions quick_options() {
  TrainOptions o;
  o.mlp.hidden = {64, 64};
  o.mlp.epochs = 150;
  o.mlp.patience = 40;
  o.mlp.batch_size = 16;
  o.mlp.learning_rate = 3e-3;
  o.cv_folds = 3;
  o.seed = 3;
  o.threads = 1;
  return o;
}

fs::path shared_fe(const std::string& split) {
  return fs::path(TSUNAGU_SHARED_DIR) / "data" / "xas" / "fe_k_edge" / ("xyz_" + split);
}

}  // namespace

TEST(XasModel, SyntheticTableNetworkBeatsBothBaselinesInGroupedCv) {
  const auto dir = temp_dir("cv");
  const auto data = load_dataset(write_synthetic_table(dir), table_options());
  ASSERT_EQ(data.records.size(), 90u);
  const Model m = Model::train(data, quick_options());
  ASSERT_TRUE(m.cv().has_value());
  const auto& cv = *m.cv();
  ASSERT_EQ(cv.predictors, (std::vector<std::string>{"model", "mean", "knn"}));
  EXPECT_EQ(cv.folds, 3);
  const double model_mse = cv.spread(0, "mse").mean, mean_mse = cv.spread(1, "mse").mean,
               knn_mse = cv.spread(2, "mse").mean;
  EXPECT_LT(model_mse, 0.2 * mean_mse) << "model " << model_mse << " mean " << mean_mse;
  EXPECT_LT(model_mse, knn_mse) << "model " << model_mse << " knn " << knn_mse;
  EXPECT_GT(cv.spread(0, "pearson_median").mean, 0.97);
  EXPECT_EQ(m.mesh(), parse_mesh("7100:7130:60"));
  EXPECT_FALSE(m.uses_structures());
  EXPECT_EQ(m.feature_names().size(), 4u);
  const auto j = cv.to_json();
  EXPECT_TRUE(j.contains("knn"));
  EXPECT_TRUE(j["model"]["mse"].contains("sd"));
}

TEST(XasModel, SameSeedGivesIdenticalModelsAndSaveLoadRoundTrips) {
  const auto dir = temp_dir("seed");
  const auto data = load_dataset(write_synthetic_table(dir, 12, 2), table_options());
  TrainOptions o = quick_options();
  o.cv_folds = 0;
  o.mlp.epochs = 40;
  const Model a = Model::train(data, o), b = Model::train(data, o);
  Eigen::MatrixXd X = a.featurize(data.records);
  EXPECT_EQ(a.predict_features(X), b.predict_features(X));
  a.save(dir / "m.tsx");
  const Model c = Model::load(dir / "m.tsx");
  EXPECT_TRUE(c.predict_features(X).isApprox(a.predict_features(X), 1e-12));
  EXPECT_EQ(c.mesh(), a.mesh());
  const auto ea = a.evaluate(data), ec = c.evaluate(data);
  EXPECT_DOUBLE_EQ(ea.model.mse, ec.model.mse);
  EXPECT_DOUBLE_EQ(ea.knn.mse, ec.knn.mse);
  EXPECT_DOUBLE_EQ(ea.mean.mse, ec.mean.mse);
  // k-NN on its own training rows with k = 5 is not exact, but the mean baseline is the training mean.
  const Eigen::RowVectorXd mean = c.mean_spectrum();
  EXPECT_NEAR(mean.sum(), ec.reference.colwise().mean().sum(), 1e-9);
}

TEST(XasModel, TuningRecordsEveryTrialAndKeepsTheBest) {
  const auto dir = temp_dir("tune");
  const auto data = load_dataset(write_synthetic_table(dir, 16, 2), table_options());
  TrainOptions o = quick_options();
  o.cv_folds = 0;
  o.mlp.epochs = 30;
  o.tune_trials = 3;
  const Model m = Model::train(data, o);
  ASSERT_EQ(m.tuning().size(), 3u);
  EXPECT_EQ(m.tuning()[0].layers, 2);  // the starting settings come first
  EXPECT_EQ(m.tuning()[0].width, 64);
  const auto best = std::min_element(m.tuning().begin(), m.tuning().end(), [](const auto& x, const auto& y) {
    return x.validation_mse < y.validation_mse;
  });
  EXPECT_EQ(m.network().options().hidden, std::vector<int>(static_cast<std::size_t>(best->layers), best->width));
  EXPECT_DOUBLE_EQ(m.network().options().learning_rate, best->learning_rate);
  for (const auto& t : m.tuning()) {
    EXPECT_GE(t.layers, 1);
    EXPECT_LE(t.layers, 4);
    EXPECT_GE(t.width, 32);
    EXPECT_LE(t.width, 512);
    EXPECT_TRUE(std::isfinite(t.validation_mse));
  }
}

TEST(XasModel, BadInputIsRefusedInOneLine) {
  const auto dir = temp_dir("bad");
  const auto data = load_dataset(write_synthetic_table(dir, 12, 2), table_options());
  TrainOptions o = quick_options();
  o.cv_folds = 1;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = quick_options();
  o.validation_fraction = 0.9;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = quick_options();
  o.mesh = parse_mesh("7090:7130:60");  // below the spectra
  EXPECT_THROW(Model::train(data, o), InvalidArgument);

  o = quick_options();
  o.cv_folds = 0;
  o.mlp.epochs = 5;
  const Model m = Model::train(data, o);
  // A table model given the wrong number of descriptor columns.
  auto recs = data.records;
  recs[0].features.conservativeResize(3);
  EXPECT_THROW(m.featurize(recs), InvalidArgument);
  // A table model cannot describe structures.
  EXPECT_THROW(m.predict({structure::Crystal{}}), InvalidArgument);

  // Not a model file; a CBOR file of another kind; a truncated model.
  std::ofstream(dir / "junk.tsx") << "hello";
  EXPECT_THROW(Model::load(dir / "junk.tsx"), ParseError);
  m.save(dir / "ok.tsx");
  {
    std::ifstream in(dir / "ok.tsx", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir / "cut.tsx", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  EXPECT_THROW(Model::load(dir / "cut.tsx"), ParseError);
  {
    const auto other = nlohmann::json::to_cbor(nlohmann::json{{"format", "tsunagu.bio.model/1"}});
    std::ofstream(dir / "other.tsx", std::ios::binary).write(reinterpret_cast<const char*>(other.data()),
                                                             static_cast<std::streamsize>(other.size()));
  }
  try {
    Model::load(dir / "other.tsx");
    FAIL() << "expected ParseError";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("tsunagu.bio.model/1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Model::load(dir / "missing.tsx"), IoError);
}

TEST(XasModel, FeKEdgeStructuresTrainPredictAndRefuseStructuresWithoutIron) {
  const auto train_dir = shared_fe("train");
  if (!fs::exists(train_dir)) GTEST_SKIP() << "../shared/data/xas absent: " << train_dir;
  LoadOptions lo;
  lo.format = DataFormat::Xanesnet;
  const auto train = load_dataset(train_dir, lo);
  ASSERT_EQ(train.records.size(), 100u);
  TrainOptions o = quick_options();
  o.cv_folds = 0;
  o.mlp.epochs = 60;
  const Model m = Model::train(train, o);
  EXPECT_TRUE(m.uses_structures());
  EXPECT_EQ(m.absorber(), "Fe");
  EXPECT_EQ(m.network().n_inputs(), static_cast<int>(m.descriptors().size()));

  const auto test = load_dataset(shared_fe("test"), lo);
  const auto ev = m.evaluate(test);
  EXPECT_EQ(ev.model.n, test.records.size());
  EXPECT_EQ(ev.predicted.rows(), static_cast<Eigen::Index>(test.records.size()));
  EXPECT_TRUE(ev.predicted.allFinite());
  EXPECT_TRUE(ev.to_json().contains("baselines"));

  // predict() from bare structures (absorber = first Fe atom) equals the dataset path.
  std::vector<structure::Crystal> cs;
  for (const auto& r : test.records) cs.push_back(*r.structure);
  EXPECT_TRUE(m.predict(cs).isApprox(ev.predicted, 1e-12));

  // A structure without iron, and an absorbing index that is not iron.
  structure::Crystal water = structure::parse_xyz("3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n", "water.xyz");
  try {
    m.predict({water});
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("water.xyz"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.predict({cs[0]}, {1}), InvalidArgument);  // site 1 is a ligand atom

  // Edge alignment without an explicit mesh: the default mesh is the range every *shifted* spectrum covers.
  TrainOptions aligned = o;
  aligned.align_edge_to = 7112.0;
  aligned.mlp.epochs = 2;
  const Model ma = Model::train(train, aligned);
  for (const auto& r : train.records) {
    const double shift = 7112.0 - edge_energy(r.energy, r.mu);
    EXPECT_GE(ma.mesh().lo, r.energy(0) + shift - 1e-9);
    EXPECT_LE(ma.mesh().hi, r.energy(r.energy.size() - 1) + shift + 1e-9);
  }
}
