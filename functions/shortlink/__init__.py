"""The short-link domain core: plain Python shared by every function (AWS only in `store`)."""
