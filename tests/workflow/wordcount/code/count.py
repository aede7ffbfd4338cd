"""Count the words of a text file: results/counts.txt and results/summary.json."""

import collections
import json
import os
import sys


def main(wordsfile: str, outdir: str) -> None:
    with open(wordsfile) as f:
        words = f.read().split()
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, 'counts.txt'), 'w') as f:
        for word, count in sorted(collections.Counter(words).items()):
            f.write(f'{word} {count}\n')
    with open(os.path.join(outdir, 'summary.json'), 'w') as f:
        json.dump({'words': len(words), 'longest': max(words, key=len)}, f)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
