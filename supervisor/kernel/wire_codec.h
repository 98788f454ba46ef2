// Writer and Reader of the private binary encodings between processes of one tollgate build
// (sandbox_setup.h, serve_protocol.h): native byte order, length-prefixed strings. The Reader
// checks every length, so a short or corrupt message is an error, never a read past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace tollgate::kernel {

class Writer {
 public:
  template <typename T>
  void Put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void PutString(const std::string& text) {
    Put<std::uint32_t>(static_cast<std::uint32_t>(text.size()));
    bytes_.append(text);
  }
  void PutStrings(const std::vector<std::string>& texts) {
    Put<std::uint32_t>(static_cast<std::uint32_t>(texts.size()));
    for (const auto& text : texts) PutString(text);
  }
  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  template <typename T>
  bool Get(T* value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (rest_.size() < sizeof(T)) return false;
    std::memcpy(value, rest_.data(), sizeof(T));
    rest_.remove_prefix(sizeof(T));
    return true;
  }
  bool GetBool(bool* value) {
    std::uint8_t byte = 0;
    if (!Get(&byte) || byte > 1) return false;
    *value = byte == 1;
    return true;
  }
  bool GetString(std::string* text) {
    std::uint32_t size = 0;
    if (!Get(&size) || rest_.size() < size) return false;
    text->assign(rest_.data(), size);
    rest_.remove_prefix(size);
    return true;
  }
  // A count of items that each take at least `min_item_size` bytes: bounded by what is left, so
  // a corrupt count cannot make the caller reserve gigabytes.
  bool GetCount(std::size_t min_item_size, std::uint32_t* count) {
    return Get(count) && *count <= rest_.size() / min_item_size;
  }
  bool GetStrings(std::vector<std::string>* texts) {
    std::uint32_t count = 0;
    if (!GetCount(sizeof(std::uint32_t), &count)) return false;
    texts->resize(count);
    for (auto& text : *texts) {
      if (!GetString(&text)) return false;
    }
    return true;
  }
  bool AtEnd() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace tollgate::kernel
