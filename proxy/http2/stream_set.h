#pragma once
// An unordered set of objects that remember their own position (an index
// member), so insert and erase are O(1) with no allocation per element
// once the vector has grown. Used for the open streams of a connection.

#include <cstddef>
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

}  // namespace regiongate
