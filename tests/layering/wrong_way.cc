// Compiled by tests/layering/CMakeLists.txt as a member of one layer,
// including a header of a layer above it (or beside it, undeclared). It must
// not compile: each library sees only its own headers and its declared
// dependencies' (regiongate_expose in the top-level CMakeLists.txt).
#include LAYERING_HEADER
