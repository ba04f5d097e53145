#pragma once
namespace tsunagu {
/// Library version "MAJOR.MINOR.PATCH".
const char* version() noexcept;
}  // namespace tsunagu
