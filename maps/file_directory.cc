// placeholder: being written
#include "maps/file_directory.h"
