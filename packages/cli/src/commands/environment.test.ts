import { colorOutput } from './environment';

describe('colorOutput', () => {
  const saved = process.env.NO_COLOR;
  afterEach(() => {
    if (saved === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = saved;
  });

  it('colours a terminal unless NO_COLOR is set', () => {
    delete process.env.NO_COLOR;
    expect(colorOutput({ isTTY: true })).toBe(true);
    process.env.NO_COLOR = '1';
    expect(colorOutput({ isTTY: true })).toBe(false);
  });

  it('never colours a pipe or a file', () => {
    delete process.env.NO_COLOR;
    expect(colorOutput({ isTTY: false })).toBe(false);
    expect(colorOutput({})).toBe(false);
  });

  it('takes an empty NO_COLOR as unset (no-color.org)', () => {
    process.env.NO_COLOR = '';
    expect(colorOutput({ isTTY: true })).toBe(true);
  });
});
