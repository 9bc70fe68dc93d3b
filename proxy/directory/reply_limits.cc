#include "proxy/directory/reply_limits.h"

#include <hiredis/hiredis.h>

namespace regiongate {
namespace {

// hiredis' own reply constructors (its defaults, static inside it), with
// the array one bounded.
struct BoundedFunctions {
  redisReplyObjectFunctions table;
  void* (*create_array)(const redisReadTask*, int);
};

void* create_bounded_array(const redisReadTask* task, int elements) noexcept;

// Not const: a reader points at its table as non-const (hiredis never
// writes it).
BoundedFunctions& bounded_functions() {
  static BoundedFunctions functions = [] {
    BoundedFunctions f{};
    // A fresh reader holds hiredis' default table.
    redisReader* reader = redisReaderCreate();
    if (reader != nullptr) {
      f.table = *reader->fn;
      redisReaderFree(reader);
    }
    f.create_array = f.table.createArray;
    f.table.createArray = create_bounded_array;
    return f;
  }();
  return functions;
}

// Called by hiredis: NULL is its "out of memory", which fails the reader.
void* create_bounded_array(const redisReadTask* task, int elements) noexcept {
  if (elements < 0 || elements > kMaxReplyElements) return nullptr;
  return bounded_functions().create_array(task, elements);
}

}  // namespace

void bound_reply_sizes(redisReader* reader) {
  BoundedFunctions& f = bounded_functions();
  if (reader != nullptr && f.create_array != nullptr) reader->fn = &f.table;
}

}  // namespace regiongate
