from tests.functional import base


class SmokeTest(base.NovaHATestCase):
    enabled_filters = base.DEFAULT_FILTERS

    def test_boot(self):
        for h in ('h1', 'h2', 'h3'):
            self._start_compute(h)
        flavor = self._create_flavor_with_specs('f1', {'ha': 'true'})
        server = self._create_server(flavor_id=flavor, networks='none')
        self.assertIn(server['OS-EXT-SRV-ATTR:host'], ('h1', 'h2', 'h3'))
