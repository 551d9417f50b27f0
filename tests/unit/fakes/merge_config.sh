#!/bin/bash
# Fake merge_config.sh: concatenates fragments into O/.config, dropping symbols
# listed in the tree's UNSUPPORTED file (so "did not stick" can be tested).
while getopts "nmO:" opt; do case $opt in O) out=$OPTARG;; *) ;; esac; done
shift $((OPTIND-1))
cat "$@" | grep -E '^(CONFIG_|# CONFIG_)' | grep -v -F -f UNSUPPORTED > "$out/.config" || true
