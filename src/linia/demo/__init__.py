"""Demo data for `linia demo`: four tenants modelled on the case studies, generated deterministically.

vostok-market (ru, Far East, 40 stores), dyskont-pl (pl, 2,600 stores, technical faults), maison-mode
(fr, online fashion, refunds to accounting), quickdrop (en, delivery hubs). Seeding is idempotent.
Entry point: linia.demo.run.seed_demo; the tenant tables (vostok, dyskont, maison, quickdrop, common) are plain
Python and import no Django.
"""
