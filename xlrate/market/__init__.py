"""Payers' published rates (Transparency in Coverage): read, normalise, store.

A source layer like :mod:`xlrate.medicare`: it imports only the base modules (codes, errors,
files, settings) and the careful downloader of :mod:`xlrate.medicare.download`.

- :mod:`~xlrate.market.reader`  streaming in-network reader (ijson C backend, v1 and v2)
- :mod:`~xlrate.market.pos`     place of service -> nonfacility / facility / mixed
- :mod:`~xlrate.market.sources` local paths and URLs (conditional downloads)
- :mod:`~xlrate.market.toc`     tables of contents -> in-network file URLs
- :mod:`~xlrate.market.store`   the Parquet store (one part per file) and its manifest
- :mod:`~xlrate.market.ingest`  one file per worker: local processes or Dask
- :mod:`~xlrate.market.nppes`   NPPES extracts (NPI -> ZIP, taxonomies)

pyarrow, duckdb, ijson and dask are the optional extra ``xlrate[market]``; they are
imported inside the functions that need them so ``import xlrate`` stays light.
The benchmark itself is :mod:`xlrate.analysis.market`.
"""
