import test from 'node:test';
import assert from 'node:assert';
test('sums', () => { assert.strictEqual(1 + 1, 2); });
test('fails', () => { assert.strictEqual(1, 2); });
test('skipped', { skip: 'not on linux' }, () => {});
test('todo', { todo: 'later' }, () => { throw new Error('x'); });
test('group', async (t) => { await t.test('inner ok', () => {}); await t.test('inner bad', () => { throw new Error('no'); }); });
