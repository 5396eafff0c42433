import { describe, expect, it } from 'vitest';
import { checkKnownOptions } from '../src/known-options.js';

describe('checkKnownOptions', () => {
  const known = ['signal', 'maxWaitMs', 'capacity'];

  it('accepts known names, inherited ones and no names', () => {
    expect(() => checkKnownOptions({}, known)).not.toThrow();
    expect(() => checkKnownOptions({ signal: undefined, maxWaitMs: 5 }, known)).not.toThrow();
    expect(() => checkKnownOptions(Object.create({ stray: 1 }) as object, known)).not.toThrow();
  });

  it.each([
    [{ maxWait: 1 }, 'Unknown option `maxWait` (did you mean `maxWaitMs`?)'],
    [{ maxwaitms: 1 }, 'Unknown option `maxwaitms` (did you mean `maxWaitMs`?)'],
    [{ capcity: 1 }, 'Unknown option `capcity` (did you mean `capacity`?)'],
    [{ sig: 1 }, 'Unknown option `sig` (did you mean `signal`?)'],
    [{ signals: 1 }, 'Unknown option `signals` (did you mean `signal`?)'],
    [{ timeout: 1 }, 'Unknown option `timeout` (known options: `signal`, `maxWaitMs`, `capacity`)'],
    [{ signal: 1, zzz: 2 }, 'Unknown option `zzz` (known options: `signal`, `maxWaitMs`, `capacity`)'],
  ])('rejects %o with a TypeError: %s', (options, message) => {
    expect(() => checkKnownOptions(options, known)).toThrow(new TypeError(message));
  });
});
