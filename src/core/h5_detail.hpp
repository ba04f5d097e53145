#pragma once
/// Internal (not installed): RAII HDF5 handles and the process-wide HDF5 lock shared by every tsunagu module that
/// calls the HDF5 C API directly (core/hdf5.cpp, spectra/cube.cpp). The Debian HDF5 is built without thread
/// safety, so all HDF5 calls from all modules must hold the same mutex.
#include <hdf5.h>

#include <mutex>

namespace tsunagu::core::detail {

/// The single lock around HDF5 calls (defined in core/hdf5.cpp).
std::mutex& h5_mutex();

/// Silence HDF5's automatic error-stack printing (we report errors ourselves). Idempotent.
inline void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

/// Owning HDF5 identifier with the matching close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  ~Handle() { reset(); }

  hid_t get() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }
  /// Close now and report whether closing succeeded (a file close flushes data).
  bool close() noexcept {
    if (!valid()) return true;
    const herr_t rc = closer_(id_);
    id_ = H5I_INVALID_HID;
    return rc >= 0;
  }

 private:
  void reset() noexcept {
    if (valid() && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

inline Handle file_handle(hid_t id) { return Handle(id, H5Fclose); }
inline Handle space_handle(hid_t id) { return Handle(id, H5Sclose); }
inline Handle type_handle(hid_t id) { return Handle(id, H5Tclose); }
inline Handle dataset_handle(hid_t id) { return Handle(id, H5Dclose); }
inline Handle attr_handle(hid_t id) { return Handle(id, H5Aclose); }
inline Handle plist_handle(hid_t id) { return Handle(id, H5Pclose); }
inline Handle group_handle(hid_t id) { return Handle(id, H5Gclose); }

}  // namespace tsunagu::core::detail
