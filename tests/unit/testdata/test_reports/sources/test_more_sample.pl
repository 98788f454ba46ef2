use strict; use warnings;
use Test::More tests => 6;
ok(1, 'adds numbers');
ok(0, 'parses the header');
SKIP: { skip 'no network here', 1; ok(1, 'fetches'); }
TODO: { local $TODO = 'not written yet'; ok(0, 'handles unicode'); }
subtest 'nested' => sub { plan tests => 2; ok(1, 'inner one'); ok(0, 'inner two'); };
is(2, 2, 'two is two');
