"""Demo data for `linia demo`: four tenants modelled on the case studies, generated deterministically.

vostok-market (ru, Far East, 40 stores), dyskont-pl (pl, 2,600 stores, technical faults), maison-mode
(fr, online fashion, refunds to accounting), quickdrop (en, delivery hubs). Seeding is idempotent.
"""

from linia.demo.run import DemoReport, seed_demo

__all__ = ["DemoReport", "seed_demo"]
