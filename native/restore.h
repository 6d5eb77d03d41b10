// Registration of native/restore.c's calls on the tether_native addon's exports.
#ifndef TETHER_RESTORE_H
#define TETHER_RESTORE_H
#include <node_api.h>

void restore_register(napi_env env, napi_value exports);

#endif
