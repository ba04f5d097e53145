// The MPI seam of the batch engine: the only file that knows whether tsunagu was built with MPI.
#include <cstdlib>

#include "tsunagu/core/error.hpp"
#include "tsunagu/spectra/batch.hpp"

#ifdef TSUNAGU_HAVE_MPI
// The C API only: OpenMPI's deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace tsunagu::spectra {

bool built_with_mpi() noexcept {
#ifdef TSUNAGU_HAVE_MPI
  return true;
#else
  return false;
#endif
}

namespace {
/// Launched by an MPI starter? (Initialising MPI in every plain CLI call would be slow and noisy.)
bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}
}  // namespace

#ifdef TSUNAGU_HAVE_MPI
namespace {
class MpiCommunicator final : public Communicator {
 public:
  int rank() const override {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
  }
  int size() const override {
    int s = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
  }
  void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }
  std::vector<double> sum(const std::vector<double>& local) override {
    std::vector<double> out(local.size());
    MPI_Allreduce(local.data(), out.data(), static_cast<int>(local.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return out;
  }
};
}  // namespace

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised && launched_by_mpirun()) {
    MPI_Init(argc, argv);
    active_ = true;
  }
}
MpiSession::~MpiSession() {
  if (active_) MPI_Finalize();
}
std::unique_ptr<Communicator> world_communicator() {
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (initialised && !finalised) return std::make_unique<MpiCommunicator>();
  return serial_communicator();
}
#else
MpiSession::MpiSession(int*, char***) {
  if (launched_by_mpirun())
    throw InvalidArgument("launched by mpirun, but this tsunagu was built without MPI (every rank would redo the "
                          "whole cube); rebuild with libopenmpi-dev installed, or run without mpirun");
}
MpiSession::~MpiSession() = default;
std::unique_ptr<Communicator> world_communicator() { return serial_communicator(); }
#endif

}  // namespace tsunagu::spectra
