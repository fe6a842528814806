#!/bin/sh
# Placeholder: the ops work installs a real helm binary here.
exit 0
