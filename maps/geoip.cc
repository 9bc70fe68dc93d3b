// placeholder: being written
#include "maps/geoip.h"
