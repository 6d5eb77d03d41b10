{
  "targets": [
    {
      "target_name": "tether_native",
      "sources": ["native/scandir.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
