// Imported first by the *-fuse-native test files: every mount their suites make (each a
// `tether mount` child, which inherits this environment) goes through fuse-native.
process.env['TETHER_FUSE_BINDING'] = 'fuse-native';
