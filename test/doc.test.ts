import { describe, expect, it } from 'vitest';
import { displayTitle } from '../src/doc.js';

describe('displayTitle', () => {
  it('is the title, else the first words of the text, else the id', () => {
    expect(displayTitle({ id: 'a', title: 'Vitamin D', text: 'long text here' })).toBe('Vitamin D');
    expect(displayTitle({ id: 'a', title: ' ', text: 'how are glacier caves formed' })).toBe(
      'how are glacier caves formed',
    );
    expect(displayTitle({ id: 'a', text: 'one two three four five six seven eight nine ten eleven' })).toBe(
      'one two three four five six seven eight nine ten…',
    );
    expect(displayTitle({ id: 'a', text: '  one\n two ' }, 1)).toBe('one…');
    expect(displayTitle({ id: 'wikiqa:7', text: '   ' })).toBe('wikiqa:7');
  });
});
