import { slackEscape } from "../notify/message.js";

/** The account-link pages the app serves itself (pure HTML, no script; every value escaped). */
const html = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${html(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1f2328}a.button{display:inline-block;background:#1f883d;color:#fff;padding:.6rem 1.2rem;border-radius:6px;text-decoration:none;font-weight:600}</style>
</head><body><h1>${html(title)}</h1>${body}</body></html>
`;
}

export function linkPage(authorizeUrl: string): string {
  return page(
    "Link your GitHub account to Slack",
    `<p>jit-access turns your Approve and Reject clicks in Slack into <strong>your own GitHub reviews</strong>. To do that it needs your permission to act as you on GitHub, limited to what the jit-access app itself may do.</p>
<p>A click reviews only the commit the Slack message showed; GitHub still refuses you a review of your own request, and the app's rules decide whether your review counts.</p>
<p><a class="button" id="authorize" href="${html(authorizeUrl)}">Continue on GitHub</a></p>
<p>This page works once and for 10 minutes. You can revoke the link at any time in GitHub's settings (Applications → Authorized GitHub Apps).</p>`,
  );
}

/**
 * The last step of linking, shown to whoever completed GitHub's authorization: which Slack account
 * their GitHub account is about to act for. A link forwarded by someone else names that person's
 * Slack account here, and confirming it would let them approve as you: the page says so.
 */
export function confirmLinkPage(login: string, slackAccount: string, confirmPath: string, token: string): string {
  return page(
    "Confirm the link",
    `<p>Link GitHub <strong>@${html(login)}</strong> to the Slack account <strong id="slack-account">${html(slackAccount)}</strong>?</p>
<p>Every Approve or Reject click by that Slack account will then be <strong>your</strong> review on GitHub.</p>
<p class="warning"><strong>Only if that Slack account is yours.</strong> If someone sent you this link, stop here: confirming would let them approve requests as you.</p>
<form method="post" action="${html(confirmPath)}"><input type="hidden" name="token" value="${html(token)}"><button class="button" id="confirm" type="submit">Yes, this Slack account is mine</button></form>
<p>Nothing is linked until you confirm. This page works once and for 10 minutes.</p>`,
  );
}

export function linkedPage(login: string): string {
  return page("Linked", `<p id="result">Your Slack account is now linked to GitHub <strong>@${html(login)}</strong>. Go back to Slack and click again.</p>`);
}

export function linkProblemPage(problem: string): string {
  return page("Not linked", `<p id="result">${html(problem)}</p><p>Click the button in Slack again to get a new link.</p>`);
}

/** What Slack people read back (ephemeral), in mrkdwn: whatever GitHub or people wrote is escaped. */
export const chatText = {
  link: (url: string) => `To decide from Slack, link your GitHub account first: <${url}|link it here> (works once, for 10 minutes). Then click again.`,
  notInChat: (url: string) => `This request cannot be decided from Slack (its policy keeps the decision on GitHub). Review it on GitHub: <${url}|open the request>.`,
  decided: (url: string) => `Nothing was done: the request no longer waits for a decision. <${url}|Open it on GitHub>.`,
  outdated: (shown: string, head: string, url: string) =>
    `Nothing was approved: this message showed commit \`${shown.slice(0, 7)}\` but the request is now at \`${head.slice(0, 7)}\`. Look at what changed on GitHub: <${url}|open the request>.`,
  closed: (url: string) => `Nothing was done: the request is no longer open. <${url}|Open it on GitHub>.`,
  approved: (login: string, sha: string) => `Your approval was submitted as @${slackEscape(login)}'s GitHub review of commit \`${sha.slice(0, 7)}\`. jit-access counts it exactly as a review made on GitHub.`,
  rejected: (login: string, sha: string) => `Your rejection was submitted as @${slackEscape(login)}'s "changes requested" review of commit \`${sha.slice(0, 7)}\`.`,
  refused: (message: string) => `GitHub refused the review: ${slackEscape(message)}. Nothing was changed.`,
  failed: (message: string) => `The review could not be submitted: ${slackEscape(message)}. Nothing was changed; try again or review on GitHub.`,
};
