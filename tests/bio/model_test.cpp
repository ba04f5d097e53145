// Ensemble property models, baselines and weight analysis (src/bio/model.cpp).
#include "tsunagu/bio/model.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/table.hpp"

using namespace tsunagu;
using namespace tsunagu::bio;
namespace fs = std::filesystem;

namespace {

// y = 3 x0 - 2 x1 + 0.5 x2 + 0 x3 + 0 x4 + N(0, 0.1^2), x ~ U(-1, 1).
Dataset planted_linear(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::normal_distribution<double> g(0, 0.1);
  Dataset d;
  d.X.resize(n, 5);
  d.y.resize(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 5; ++j) d.X(i, j) = u(rng);
    d.y(i) = 3 * d.X(i, 0) - 2 * d.X(i, 1) + 0.5 * d.X(i, 2) + g(rng);
    d.ids.push_back("s" + std::to_string(i));
  }
  d.features = {"x0", "x1", "x2", "x3", "x4"};
  d.target = "y";
  return d;
}

TrainOptions quick() {
  TrainOptions o;
  o.ensemble = 4;
  o.folds = 4;
  o.repeats = 1;
  o.permutation_repeats = 3;
  o.mlp.epochs = 300;
  o.mlp.patience = 50;
  o.threads = 2;
  return o;
}

fs::path temp_dir() {
  const fs::path p = fs::temp_directory_path() / ("tsunagu_bio_" + std::to_string(::getpid()));
  fs::create_directories(p);
  return p;
}

fs::path shared_bio(const std::string& name) {
  for (fs::path p = fs::current_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
    if (fs::exists(p / "shared" / "data" / "bio" / name)) return p / "shared" / "data" / "bio" / name;
  return {};
}

}  // namespace

TEST(BioModel, PlantedLinearEffectsAreRecoveredByEveryImportanceMethodAndTheEnsembleFitsWell) {
  const Dataset d = planted_linear(160, 1);
  const Model m = Model::train(d, quick());
  ASSERT_EQ(m.importances().size(), 3u);
  for (const auto& imp : m.importances()) {
    const Eigen::VectorXd a = imp.mean.cwiseAbs();
    // x0 > x1 > x2 > {x3, x4}
    EXPECT_GT(a(0), a(1)) << imp.method;
    EXPECT_GT(a(1), a(2)) << imp.method;
    EXPECT_GT(a(2), a(3)) << imp.method;
    EXPECT_GT(a(2), a(4)) << imp.method;
    for (Eigen::Index j = 0; j < 5; ++j) {
      EXPECT_LE(imp.ci_low(j), imp.mean(j) + 1e-12) << imp.method;
      EXPECT_GE(imp.ci_high(j), imp.mean(j) - 1e-12) << imp.method;
    }
  }
  // Olden is signed: x1 lowers y.
  EXPECT_LT(m.importances()[1].mean(1), 0);
  EXPECT_GT(m.importances()[1].mean(0), 0);
  const auto r = m.report();
  EXPECT_GT(r["cv_r2"]["mean"].get<double>(), 0.95);
  EXPECT_EQ(r["folds_r2"].size(), 4u);
  EXPECT_EQ(r["repeats_q2"].size(), 1u);
  EXPECT_GT(r["cv_q2"]["mean"].get<double>(), 0.95);
  EXPECT_TRUE(r["baselines"].contains("sparse"));
  EXPECT_TRUE(r["baselines"]["knn"].contains("cv_rmse"));
  // A linear truth: the lasso baseline is excellent too; kNN in 5-D is the weakest.
  EXPECT_GT(r["baselines"]["sparse"]["cv_r2"]["mean"].get<double>(), 0.95);
  EXPECT_LT(r["baselines"]["knn"]["cv_r2"]["mean"].get<double>(), r["cv_r2"]["mean"].get<double>());
  const nlohmann::json agreement = m.agreement();  // named: items() of a temporary would dangle
  for (const auto& [k, v] : agreement.items()) EXPECT_GT(v.get<double>(), 0.8) << k;
  const auto imp = m.importance_json();
  ASSERT_EQ(imp["olden"].size(), 5u);
  EXPECT_EQ(imp["garson"][0]["feature"], "x0");
  EXPECT_TRUE(imp["permutation"][0].contains("ci_high"));
}

TEST(BioModel, NonlinearTruthTheEnsembleBeatsTheLassoBaseline) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  std::normal_distribution<double> g(0, 0.05);
  Dataset d;
  const int n = 200;
  d.X.resize(n, 4);
  d.y.resize(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 4; ++j) d.X(i, j) = u(rng);
    d.y(i) = std::sin(2 * d.X(i, 0)) + d.X(i, 1) * d.X(i, 1) + g(rng);
  }
  d.features = {"a", "b", "c", "d"};
  d.target = "y";
  d.ids.assign(n, "");
  const Model m = Model::train(d, quick());
  const auto r = m.report();
  EXPECT_GT(r["cv_r2"]["mean"].get<double>(), r["baselines"]["sparse"]["cv_r2"]["mean"].get<double>() + 0.3);
  // Permutation importance sees both planted inputs above the two noise inputs.
  const Eigen::VectorXd perm = m.importances()[2].mean;
  EXPECT_GT(std::min(perm(0), perm(1)), std::max(perm(2), perm(3)));
}

TEST(BioModel, SameSeedSameModelWhateverTheThreadCountAndSaveLoadRoundTrips) {
  const Dataset d = planted_linear(60, 2);
  TrainOptions o = quick();
  o.mlp.epochs = 60;
  const Model a = Model::train(d, o);
  o.threads = 1;
  const Model b = Model::train(d, o);
  const Eigen::MatrixXd X = d.X.topRows(7);
  EXPECT_EQ(a.predict(X).mean, b.predict(X).mean);
  EXPECT_EQ(a.report()["folds_r2"], b.report()["folds_r2"]);
  const fs::path dir = temp_dir();
  a.save(dir / "m.tsb");
  const Model c = Model::load(dir / "m.tsb");
  EXPECT_EQ(c.predict(X).mean, a.predict(X).mean);
  EXPECT_EQ(c.predict(X).sd, a.predict(X).sd);
  EXPECT_EQ(c.report(), a.report());
  EXPECT_EQ(c.importance_json(), a.importance_json());
  EXPECT_TRUE((a.predict(X).sd.array() > 0).all());  // members differ
  // Foreign and truncated files: one line naming the file.
  core::write_file_atomic(dir / "bad.tsb", "not cbor at all");
  try {
    Model::load(dir / "bad.tsb");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.tsb"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(BioDataset, EmptyTargetsTextAndConstantColumnsAreLeftOutAndReportedDuplicatesFlagged) {
  const core::Table t = core::parse_csv(
      "id,name,a,b,const,y\n"
      "m1,water,1,2,5,0.5\n"
      "m2,ethanol,2,1,5,\n"
      "m3,glycol,3,4,5,1.5\n"
      "m4,glycol again,3,4,5,1.7\n"
      "m5,propanol,5,0,5,2.5\n"
      "m6,butanol,6,9,5,NA\n"
      "m7,hexanol,7,3,5,3.5\n",
      "mols.csv");
  const Dataset d = dataset_from_table(t, "y");
  EXPECT_EQ(d.X.rows(), 5);
  EXPECT_EQ(d.features, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d.ids, (std::vector<std::string>{"m1", "m3", "m4", "m5", "m7"}));
  const auto r = d.report_json();
  const std::string text = r.dump();
  EXPECT_NE(text.find("m2"), std::string::npos);
  EXPECT_NE(text.find("empty target"), std::string::npos);
  EXPECT_NE(text.find("non-numeric target 'NA'"), std::string::npos);
  EXPECT_NE(text.find("column const"), std::string::npos);
  EXPECT_NE(text.find("column name"), std::string::npos);
  ASSERT_EQ(d.duplicates.size(), 1u);
  EXPECT_EQ(r["duplicates"][0], nlohmann::json::array({"m3", "m4"}));
  // Bad input: one line naming the file/column.
  EXPECT_THROW(dataset_from_table(t, "nope"), InvalidArgument);
  EXPECT_THROW(dataset_from_table(t, "y", {"nope"}), InvalidArgument);
  const core::Table mixed = core::parse_csv("a,b,y\n1,2,1\n2,x,2\n3,4,3\n4,5,4\n5,6,5\n", "mixed.csv");
  try {
    dataset_from_table(mixed, "y");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("mixed.csv"), std::string::npos) << e.what();
  }
  const core::Table few = core::parse_csv("a,y\n1,1\n2,\n3,3\n", "few.csv");
  EXPECT_THROW(dataset_from_table(few, "y"), InvalidArgument);
}

TEST(BioOptions, ValidateNamesTheFieldAndJsonRefusesUnknownKeys) {
  TrainOptions o;
  o.ensemble = 0;
  try {
    o.validate();
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("ensemble"), std::string::npos);
  }
  EXPECT_THROW(TrainOptions::from_json(nlohmann::json{{"folds", 1}}), InvalidArgument);
  EXPECT_THROW(TrainOptions::from_json(nlohmann::json{{"banana", 1}}), InvalidArgument);
  EXPECT_THROW(TrainOptions::from_json(nlohmann::json{{"mlp", {{"banana", 1}}}}), InvalidArgument);
  const TrainOptions p = TrainOptions::from_json(nlohmann::json{{"ensemble", 3}, {"mlp", {{"hidden", {8, 4}}}}});
  EXPECT_EQ(p.ensemble, 3);
  EXPECT_EQ(p.mlp.hidden, (std::vector<int>{8, 4}));
  EXPECT_EQ(p.mlp.weight_decay, TrainOptions::default_mlp().weight_decay);  // unspecified keys keep bio defaults
  EXPECT_EQ(TrainOptions::from_json(p.to_json()).to_json(), p.to_json());
  // Leave-one-out (folds = n): per-fold R2 is undefined, the pooled Q2 is not; no fold can be permuted.
  {
    Dataset loo = planted_linear(8, 4);
    TrainOptions lo = quick();
    lo.folds = 8;
    lo.mlp.epochs = 30;
    const Model m = Model::train(loo, lo);
    EXPECT_EQ(m.cv("model").q2.size(), 1u);
    EXPECT_TRUE(std::isfinite(m.cv("knn").q2[0]));
    EXPECT_EQ(m.importances().size(), 2u);  // garson, olden
  }
  // Row ids that do not match the rows.
  {
    Dataset bad = planted_linear(10, 5);
    bad.ids.resize(3);
    EXPECT_THROW(Model::train(bad, quick()), InvalidArgument);
  }
  // Too many folds for the data.
  Dataset d = planted_linear(6, 1);
  TrainOptions q = quick();
  q.folds = 7;
  EXPECT_THROW(Model::train(d, q), InvalidArgument);
}

TEST(BioModel, SilosaneCoatingsFromSharedDataTrainAndReportFiniteScores) {
  const fs::path path = shared_bio("fouling_release_algae.csv");
  if (path.empty()) GTEST_SKIP() << "../shared/data/bio absent";
  const Dataset d = dataset_from_table(core::read_csv(path), "algae_removal_110kPa_pct", {}, "id");
  EXPECT_EQ(d.X.rows(), 18);
  TrainOptions o = quick();
  o.folds = 3;
  o.mlp.epochs = 200;
  const Model m = Model::train(d, o);
  const auto r = m.report();
  EXPECT_TRUE(std::isfinite(r["cv_rmse"]["mean"].get<double>()));
  EXPECT_TRUE(std::isfinite(r["baselines"]["knn"]["cv_rmse"]["mean"].get<double>()));
  EXPECT_EQ(m.features().size(), static_cast<std::size_t>(d.X.cols()));
}

TEST(BioModel, TrainedFromSmilesThenPredictsFromSmilesExactlyAsFromItsDescriptorColumns) {
  // Planted: y = 2 * chain_length - 3 * eg_units (+ a user column that matters too).
  const char* mols[] = {"OCCO", "OCCOCCO", "OCCOCCOCCO", "CCCCCCS", "CCCCCCCCS", "CCCCCCCCCCS", "CCCCCCCCCCCCS",
                        "OCCOCCS", "CCOCCOCCS", "NCCS", "OCCS", "CCCCS"};
  std::string csv = "id,smiles,angle,y\n";
  const double chain[] = {0, 0, 0, 6, 8, 10, 12, 0, 2, 0, 0, 4};
  const double eg[] = {1, 2, 3, 0, 0, 0, 0, 2, 2, 0, 1, 0};
  for (int i = 0; i < 12; ++i) {
    const double angle = 20 + 5 * i % 17;
    csv += "m" + std::to_string(i) + "," + mols[i] + "," + std::to_string(angle) + "," +
           std::to_string(2 * chain[i] - 3 * eg[i] + 0.1 * angle) + "\n";
  }
  const core::Table t = core::parse_csv(csv, "sams.csv");
  const Dataset d = dataset_from_smiles(t, "smiles", "y", DescriptorOptions{});
  ASSERT_TRUE(d.descriptors.has_value());
  EXPECT_NE(std::find(d.features.begin(), d.features.end(), "angle"), d.features.end());
  EXPECT_NE(std::find(d.features.begin(), d.features.end(), "chain_length"), d.features.end());
  TrainOptions o = quick();
  o.folds = 3;
  o.mlp.epochs = 50;
  const Model m = Model::train(d, o);
  const Prediction from_smiles = m.predict(t);
  const Prediction from_columns = m.predict(d.X);
  EXPECT_EQ(from_smiles.mean, from_columns.mean);
  // The descriptor options survive save/load, so a reloaded model still reads SMILES.
  const fs::path dir = temp_dir();
  m.save(dir / "s.tsb");
  const Model back = Model::load(dir / "s.tsb");
  EXPECT_EQ(back.predict(t).mean, from_smiles.mean);
  ASSERT_TRUE(back.descriptor_options().has_value());
  // A candidate table without the user column the model uses: one line naming it.
  const core::Table no_angle = core::parse_csv("id,smiles\nc1,OCCOCCOCCOCCO\n", "cands.csv");
  try {
    back.predict(no_angle);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("angle"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}
