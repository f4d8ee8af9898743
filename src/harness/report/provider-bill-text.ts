import { count, usd } from './format.js';
import type { ProviderBill } from './types.js';

/**
 * Formats the difference as a percentage of the bill with two decimals, `<0.01%` for a
 * difference above 0 that would round to 0.00%, or `n/a` for no bill.
 */
export function differenceShare(bill: ProviderBill): string {
  if (bill.totalUsd === 0) return 'n/a';
  const share = (100 * Math.abs(bill.differenceUsd)) / bill.totalUsd;
  if (share > 0 && share < 0.005) return '<0.01%';
  return `${share.toFixed(2)}%`;
}

/**
 * Formats the difference as {@link differenceShare} does, with the sign of `differenceUsd`:
 * `+0.21%` when the bill is above the charged cost, `-1.04%` when below, `+<0.01%` or
 * `-<0.01%` for a tiny difference, and no sign for none or for `n/a`.
 */
export function signedDifferenceShare(bill: ProviderBill): string {
  const share = differenceShare(bill);
  if (share === 'n/a' || bill.differenceUsd === 0) return share;
  return `${bill.differenceUsd > 0 ? '+' : '-'}${share}`;
}

/**
 * Describes the providers' bill beside the charged token cost: which is higher, by how much,
 * and what the bill lacks.
 */
export function providerBillText(bill: ProviderBill): string {
  const head =
    `Providers' bill: the mock providers served tokens worth ${usd(bill.totalUsd)} at the ` +
    `price table's prices, to every tenant, and the platform charged its finished tasks ` +
    `${usd(bill.chargedUsd)} for tokens`;
  const gap = Math.abs(bill.differenceUsd);
  const comparison =
    bill.differenceUsd === 0
      ? ', the same amount.'
      : `, ${usd(gap)} (${differenceShare(bill)} of the bill) ${bill.differenceUsd > 0 ? 'less' : 'more'}.`;
  const notes: string[] = [];
  if (bill.differenceUsd > 0) {
    notes.push(
      "The providers served tokens that no finished task's cost includes: calls that ended " +
        "before the provider's answer reached the platform, calls of a killed worker process, or tasks " +
        'still running when the bill was read.',
    );
  }
  if (bill.unpricedTokens > 0) {
    notes.push(
      `${count(bill.unpricedTokens)} tokens of models the price table does not list are left out of the bill.`,
    );
  }
  if (bill.unreadProviders.length > 0) {
    notes.push(
      `The counters of ${bill.unreadProviders.join(', ')} could not be read, so the bill lacks their tokens.`,
    );
  }
  return [head + comparison, ...notes].join(' ');
}
