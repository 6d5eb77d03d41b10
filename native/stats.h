// Registration of native/stats.c's calls on the tether_native addon's exports.
#ifndef TETHER_STATS_H
#define TETHER_STATS_H
#include <node_api.h>

void stats_register(napi_env env, napi_value exports);

#endif
