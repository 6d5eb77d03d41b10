// The line that ends the bundled command line and names its build (cli/launch.ts, tools/bundle.ts).
export const BUILD_ID_PREFIX = '//# tether-build=';
