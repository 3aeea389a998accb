{
  "targets": [
    {
      "target_name": "cryptvisor_xts",
      "sources": ["xts.c", "file-io.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "cryptvisor_sys",
      "sources": ["sys.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
