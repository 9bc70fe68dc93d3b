#pragma once
// An unordered set of objects that remember their own position (an index
// member), so insert and erase are O(1) with no allocation per element
// once the vector has grown. Used for the open streams of a connection.

#include <cstddef>
#include <memory>
#include <vector>

namespace regiongate {

template <typename T, std::size_t T::*Slot>
class StreamSet {
 public:
  void insert(T* item) {
    item->*Slot = items_.size();
    items_.push_back(item);
  }
  // `item` must be in the set.
  void erase(T* item) {
    std::size_t i = item->*Slot;
    items_[i] = items_.back();
    items_[i]->*Slot = i;
    items_.pop_back();
  }
  bool contains(const T* item) const {
    std::size_t i = item->*Slot;
    return i < items_.size() && items_[i] == item;
  }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  // Empties the set, handing its items over (for iteration while callbacks
  // may touch the set).
  std::vector<T*> take() {
    std::vector<T*> out;
    out.swap(items_);
    return out;
  }

 private:
  std::vector<T*> items_;
};

// The same, owning its items: the one owner of a connection's streams.
// Destroying the set destroys what is left in it.
template <typename T, std::size_t T::*Slot>
class OwnedStreamSet {
 public:
  T* insert(std::unique_ptr<T> item) {
    T* raw = item.get();
    raw->*Slot = items_.size();
    items_.push_back(std::move(item));
    return raw;
  }
  // Hands `item` (which must be in the set) back to the caller to destroy.
  std::unique_ptr<T> erase(T* item) {
    std::size_t i = item->*Slot;
    std::unique_ptr<T> out = std::move(items_[i]);
    if (i + 1 < items_.size()) {
      items_[i] = std::move(items_.back());
      items_[i].get()->*Slot = i;
    }
    items_.pop_back();
    return out;
  }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  // Calls f(const T&) for each item; f must not change the set.
  template <class F>
  void for_each(F&& f) const {
    for (const std::unique_ptr<T>& item : items_) f(*item);
  }
  std::vector<std::unique_ptr<T>> take() {
    std::vector<std::unique_ptr<T>> out;
    out.swap(items_);
    return out;
  }

 private:
  std::vector<std::unique_ptr<T>> items_;
};

}  // namespace regiongate
