"""The demo world that `make run` seeds (seed_demo) and the README's screenshots show.

Five people of a small team, three public rooms and a private one, two one-to-one
conversations and a group conversation, and talk in each from days ago until today.
Written as scripts, to read like a chat: each day is a list of `(clock time, username,
text)` lines, and a line that ends with EDITED was edited shortly after it was sent. A
past day is dated `days_ago` days before today at its clock times; today's lines keep
their spacing but end `ends_minutes_ago` before now, so that today's conversation is
always in the past, whatever the time of day.

`unread` says who has read a room to its end, where the natural default does not
hold: each member has read up to their own last message in the room.
"""

from typing import NamedTuple

PASSWORD = "chat-demo-2026"
LOGIN = "alice"  # whom the README and the screenshots show signed in

# username, first name, last name, then the profile: time zone, status emoji and text.
# Display names are the full names; avatars stay initials (no pictures in the repository).
PEOPLE = [
    ("alice", "Alice", "Martin", "Europe/Paris", "🚀", "Shipping the release"),
    ("bob", "Bob", "Okafor", "Africa/Lagos", "", ""),
    ("carol", "Carol", "Nguyen", "America/Los_Angeles", "🎧", "Heads down until noon"),
    ("dave", "Dave", "Schmidt", "Europe/Berlin", "🌴", "On holiday, back Monday"),
    ("erin", "Erin", "Kowalski", "America/New_York", "", ""),
]

EDITED = "edited"
READ_ALL = "all"


class Day(NamedTuple):
    days_ago: int
    lines: list
    ends_minutes_ago: int = 0  # today only


class DemoRoom(NamedTuple):
    name: str
    topic: str
    owner: str
    members: list
    days: list
    is_private: bool = False
    unread: dict = {}  # username -> READ_ALL


class DemoConversation(NamedTuple):
    """A direct conversation: `people[0]` opens it with the others."""

    people: list
    days: list
    unread: dict = {}


LOBBY = DemoRoom(
    name="Lobby",
    topic="Say hello to everyone",
    owner="alice",
    members=["bob", "carol", "dave", "erin"],
    unread={"alice": READ_ALL},
    days=[
        Day(
            5,
            [
                (
                    "09:02",
                    "alice",
                    "Welcome to the Lobby! Everyone is in this room: say hello, ask anything.",
                ),
                ("09:04", "bob", "Morning all 👋"),
                ("09:04", "bob", "Is this where the release announcements go too?"),
                ("09:06", "alice", "Yes. Design talk lives in Design, everything else in Random."),
                ("09:11", "carol", "Hello! I'm Carol, I look after design and the style guide."),
                ("09:12", "carol", "Write @carol if a screen looks off and I'll get a notice."),
                ("09:20", "dave", "Hi everyone, Dave here. I started on Monday, on the backend side."),
                ("09:21", "alice", "Welcome Dave! @bob can show you around the deploy scripts."),
                ("09:23", "bob", "Sure, @dave let's pair after lunch."),
                ("09:24", "dave", "Perfect, thanks."),
                ("11:40", "erin", "Hi! Erin, support and docs. I'll be in here a lot answering questions."),
                ("11:42", "alice", "Welcome Erin 🎉"),
                ("11:43", "erin", "Quick one: can I paste code here? `like this`?"),
                ("11:44", "bob", "Yes: single backticks for inline code, three for a block."),
                ("11:46", "bob", '```\ndef hello():\n    return "world"\n```'),
                ("11:47", "erin", "Lovely."),
                ("14:05", "dave", "Where do we keep the list of known issues?"),
                ("14:07", "alice", "In the issue tracker. The big ones are pinned in the wiki."),
                ("14:08", "dave", "Found it, thanks."),
                ("16:30", "carol", "Heads up: the office wifi is being upgraded tomorrow between 8 and 9."),
                ("16:31", "erin", "Good to know, I'll start a bit later then."),
            ],
        ),
        Day(
            4,
            [
                ("08:55", "bob", "Wifi is back, and it is _fast_."),
                ("09:10", "alice", "Morning! The short version of stand-up: the release is on Friday."),
                ("09:12", "dave", "Is there a checklist for the release?"),
                (
                    "09:15",
                    "alice",
                    "There is: **tests green**, screenshots updated, changelog written, then tag.",
                ),
                ("09:16", "dave", "I can take the changelog."),
                ("09:17", "alice", "Thank you @dave!"),
                (
                    "10:02",
                    "erin",
                    "A user asked whether messages are kept when they reload. They are, right?",
                ),
                (
                    "10:04",
                    "bob",
                    "Yes, everything is stored. A reload shows the last page, scrolling up loads more.",
                ),
                ("10:05", "erin", "And if their connection drops?"),
                ("10:07", "bob", "The page reconnects on its own and catches up with what it missed."),
                ("10:08", "erin", "Great, that goes in the FAQ."),
                ("12:30", "carol", "Lunch? The new ramen place around the corner is open."),
                ("12:31", "dave", "In!"),
                ("12:31", "bob", "Me too"),
                ("12:33", "erin", "Save me a seat, 10 minutes."),
                ("15:20", "dave", "The changelog draft is in the wiki, comments welcome."),
                ("15:26", "alice", "Read it, looks good. One typo in the second line, otherwise ship it."),
                ("15:28", "dave", "Fixed the typo, thanks @alice.", EDITED),
                ("17:45", "bob", "Heading out, see you tomorrow."),
            ],
        ),
        Day(
            3,
            [
                ("08:58", "erin", "Morning! The FAQ draft is ready for a first read: 12 questions so far."),
                ("09:05", "alice", "I'll read it before lunch."),
                ("09:40", "dave", "Does anyone know where the spare monitor cables went?"),
                ("09:44", "bob", "The box under the printer. Bring it back when you're done 🙂"),
                ("09:45", "dave", "Will do."),
                ("10:30", "carol", "Small poll: would you use a room just for sharing articles and links?"),
                ("10:31", "erin", "Yes, Random gets busy."),
                ("10:33", "dave", "Sure"),
                ("10:36", "bob", "Random is fine for me, but go for it."),
                ("10:40", "carol", "Let's see if Random keeps up first, then."),
                ("12:10", "alice", "FAQ read, it's really clear. @erin I'd add one about private rooms."),
                ("12:14", "erin", "Good idea. How does one get into a private room?"),
                (
                    "12:16",
                    "alice",
                    "With an invite link from its owner or a moderator. The directory doesn't list it.",
                ),
                ("12:17", "erin", "Got it, added."),
                ("14:45", "bob", "Deploy went out: search is much faster in long rooms now."),
                ("14:47", "dave", "Just tried it, instant."),
                ("14:50", "erin", "Does search find words in edited messages too?"),
                ("14:52", "bob", "Yes, it searches what a message says now."),
                ("16:05", "carol", "Cake in the kitchen, it's my birthday 🎂"),
                ("16:06", "alice", "Happy birthday @carol!"),
                ("16:06", "dave", "Happy birthday!"),
                ("16:07", "erin", "Happy birthday 🎉"),
                ("16:09", "bob", "Happy birthday! Saving a slice for later."),
            ],
        ),
        Day(
            2,
            [
                ("09:03", "carol", "Good morning! The new icons are in the design file for an early look."),
                ("09:05", "erin", "They look great. The lock for private rooms is much clearer."),
                ("09:30", "dave", "Is anyone else seeing slow builds this morning?"),
                ("09:34", "bob", "Yes, the cache was cleared overnight. The second build is fast again."),
                ("09:35", "dave", "Confirmed, 40 seconds now."),
                ("11:15", "alice", "Reminder: demo for the whole company on Friday at 3."),
                ("11:16", "erin", "Will it be recorded?"),
                ("11:18", "alice", "Yes, I'll post the link here afterwards."),
                ("13:40", "erin", "Someone asked how to get a room's messages into a spreadsheet. Can they?"),
                ("13:44", "alice", "Not yet, an export is planned for next month."),
                ("13:45", "erin", "I'll tell them, thanks."),
                ("16:10", "dave", "@erin the FAQ page you wrote helped me with a ticket today, thank you."),
                ("16:12", "erin", "Glad to hear it 😊"),
            ],
        ),
        Day(
            1,
            [
                ("09:00", "bob", "Release day minus one. Tests are green on main."),
                ("09:02", "alice", "🎉"),
                ("10:30", "carol", "Has anyone tried the new layout on a phone?"),
                ("10:31", "carol", "The rooms and the member list slide in as drawers."),
                ("10:36", "bob", "Yes, and dark mode follows the system setting. There is a toggle too."),
                ("10:40", "erin", "Tried it on my old phone, all fine."),
                ("14:00", "dave", "Screenshots for the README: who takes them?"),
                ("14:02", "bob", "Nobody by hand, there's a make target for it."),
                ("17:55", "alice", "Good work today, everyone."),
            ],
        ),
        Day(
            0,
            ends_minutes_ago=4,
            lines=[
                ("09:00", "alice", "Good morning! ☕"),
                ("09:01", "alice", "I put the **release notes** in the wiki."),
                ("09:30", "dave", "Thanks. Does `make screenshots` run in CI?"),
                ("09:55", "bob", "No, on demand: it writes the pictures to `docs/screenshots/`."),
                ("09:56", "bob", "And the README shows them."),
                ("10:29", "carol", "Messages from one person in a row now share one avatar and name."),
                ("10:57", "alice", "Shift+Enter for a new line,\nEnter to send."),
                ("11:18", "dave", "See you at the demo at 3 🎉"),
                ("11:26", "carol", "Agenda: https://example.com/demo"),
            ],
        ),
    ],
)

DESIGN = DemoRoom(
    name="Design",
    topic="Colours, layout and type",
    owner="carol",
    members=["alice", "bob", "erin"],
    days=[
        Day(
            5,
            [
                (
                    "10:00",
                    "carol",
                    "Starting on the new palette this week: better contrast, a real dark mode.",
                ),
                ("10:03", "alice", "Yes please. The grey on grey in the sidebar is hard to read."),
                ("10:05", "carol", "Agreed. I'll check every pair against WCAG AA."),
                ("10:06", "bob", "Can we keep the blue for links? People know it."),
                ("10:08", "carol", "Keeping it, just a shade darker."),
                ("15:12", "carol", "The first draft of the palette is in the design file, page Colours."),
                ("15:20", "erin", "The unread badge colour pops nicely."),
                ("15:22", "carol", "Thanks @erin, that was the idea."),
            ],
        ),
        Day(
            4,
            [
                ("09:30", "carol", "Palette, round two: warmer greys, and every text pair passes AA."),
                ("09:34", "alice", "The sidebar reads so much better."),
                ("09:36", "bob", "Is the hover colour of room links the same as the selected one?"),
                ("09:40", "carol", "Slightly lighter, so you can tell them apart."),
                ("09:41", "bob", "👍"),
                ("13:15", "erin", "Would it help if the composer said which room you're typing into?"),
                ("13:18", "carol", "Yes, the placeholder can say Message Lobby. Cheap and clear."),
                ("13:20", "alice", "Love that."),
                ("16:00", "carol", "Spacing: a 4 px grid, 8 px between messages, 16 px between runs."),
                ("16:04", "bob", "Is that in the style guide yet?"),
                ("16:10", "carol", "It is now, on the Spacing page.", EDITED),
            ],
        ),
        Day(
            3,
            [
                ("09:40", "carol", "Type question: system fonts or a web font?"),
                ("09:42", "bob", "System fonts. Fast, and they look native everywhere."),
                ("09:45", "alice", "+1 for system fonts."),
                ("09:47", "carol", "System fonts it is."),
                (
                    "11:10",
                    "carol",
                    "How big should avatars be in the message list? I mocked up 32 and 36 px.",
                ),
                ("11:14", "erin", "36 reads better for me."),
                ("11:15", "bob", "36"),
                ("11:18", "alice", "36, and only on the first message of a run."),
                ("11:19", "carol", "Yes: messages in a row from the same person share one avatar."),
                ("14:30", "bob", "@carol the focus ring disappears on the dark background."),
                ("14:34", "carol", "Good catch. I'll use a two-tone ring that works on both."),
                ("14:55", "carol", "Fixed in the file: the ring is 2 px light plus 2 px dark now.", EDITED),
            ],
        ),
        Day(
            2,
            [
                ("10:20", "alice", "How do the popovers look on a 360 px phone?"),
                ("10:25", "carol", "They become full-width sheets. There's a mock-up in the file."),
                ("10:27", "alice", "Nice."),
                ("10:40", "erin", "Small thing: Leave room looks as important as Invite people. Quieter?"),
                ("10:44", "carol", "Good point. Both outlined, and leaving a public room asks nothing."),
                ("10:46", "bob", "Private rooms are different though: you need a new invite to come back."),
                ("10:47", "carol", "True, I'll note that on the design.", EDITED),
                ("15:00", "carol", "Dark mode: pure black background or dark grey?"),
                ("15:03", "bob", "Dark grey. Pure black smears on some screens when scrolling."),
                ("15:05", "alice", "Dark grey."),
                ("15:06", "carol", "Dark grey it is."),
            ],
        ),
        Day(
            1,
            [
                ("09:15", "carol", "Touch targets: every message action is at least 44 px on phones now."),
                ("09:18", "erin", "My thumb thanks you."),
                ("11:00", "bob", "The day separators look great."),
                ("11:02", "carol", "Thanks! Today and Yesterday for recent days, dates after that."),
                ("16:40", "alice", "Can the mention colour be a bit warmer? It reads as a link right now."),
                ("16:48", "carol", "Try this one: amber background, dark text, contrast 7.2 to 1."),
                ("16:50", "alice", "Much better 👍"),
            ],
        ),
        Day(
            0,
            ends_minutes_ago=1,
            lines=[
                ("10:00", "bob", "Wiring the new colours into the stylesheet this morning."),
                ("10:20", "bob", "Light theme done, dark theme next."),
                ("10:25", "alice", "Looks good in my browser."),
                ("10:40", "carol", "@alice could you check the contrast of the new palette?"),
                ("10:44", "bob", "Dark mode looks good to me."),
            ],
        ),
    ],
)

RANDOM = DemoRoom(
    name="Random",
    topic="Anything goes",
    owner="dave",
    members=["alice", "bob", "carol"],
    days=[
        Day(
            5,
            [
                ("12:10", "dave", "What is everyone reading at the moment?"),
                ("12:14", "carol", "A book about the history of typefaces. Better than it sounds."),
                ("12:16", "bob", "Re-reading a sci-fi classic, the one with the sandworms."),
                ("12:17", "dave", "Classic."),
                ("12:20", "alice", "A cookbook, honestly. I'm learning to make bread."),
                ("12:21", "carol", "Sourdough?"),
                ("12:23", "alice", "Not yet, baby steps."),
                ("17:30", "bob", "Anyone up for a board game night next week?"),
                ("17:33", "carol", "Yes! Tuesday works for me."),
                ("17:35", "dave", "Tuesday is good."),
                ("17:40", "alice", "I'll bring snacks."),
            ],
        ),
        Day(
            4,
            [
                ("08:50", "bob", "It's snowing! First time this year ❄️"),
                ("08:52", "carol", "Cycled in, regret it."),
                ("08:53", "dave", "The bus was 20 minutes late, worth it for the view though."),
                ("12:30", "alice", "Soup in the kitchen, help yourselves."),
                ("12:31", "dave", "What kind?"),
                ("12:32", "alice", "Pumpkin and ginger."),
                ("12:33", "dave", "On my way."),
                ("15:40", "carol", "Is it just me or is the office colder than usual?"),
                ("15:42", "bob", "The heating is on a timer, it comes on at 4."),
                ("15:43", "carol", "It's 15:43. I'll survive 🥶"),
                ("17:20", "dave", "Anyone watching the match tonight?"),
                ("17:22", "bob", "Yes! @dave want to watch it at the pub?"),
                ("17:23", "dave", "Deal."),
            ],
        ),
        Day(
            3,
            [
                ("08:45", "dave", "The coffee machine on the third floor is fixed ☕"),
                ("08:46", "bob", "Best news of the week."),
                ("13:05", "carol", "The sunset from the roof yesterday was unreal 🌅"),
                ("13:07", "dave", "Photo or it didn't happen."),
                ("13:08", "carol", "Attachments aren't in the app yet, so it didn't happen 😄"),
                ("13:10", "bob", "Ha."),
                ("16:00", "alice", "Bread attempt number one: edible. Barely."),
                ("16:02", "carol", "That counts!"),
                ("16:03", "dave", "Recipe please."),
                (
                    "16:15",
                    "alice",
                    "500 g flour, 350 g water, 10 g salt, 5 g yeast. Fold every 30 minutes, "
                    "bake at 230 °C for 40 minutes.",
                    EDITED,
                ),
            ],
        ),
        Day(
            2,
            [
                ("09:20", "bob", "Game night shortlist: Codenames, Azul, Ticket to Ride. Vote here."),
                ("09:22", "carol", "Azul"),
                ("09:23", "dave", "Ticket to Ride"),
                ("09:30", "alice", "Codenames, it works with more people."),
                ("09:31", "bob", "Codenames first then, Azul after."),
                ("12:45", "dave", "Lunch tip: the falafel place on the corner. Huge portions."),
                ("12:50", "carol", "Went there yesterday, can confirm."),
                ("17:10", "bob", "Who left an umbrella in the meeting room? It has ducks on it."),
                ("17:12", "carol", "Mine! Thank you 🦆"),
            ],
        ),
        Day(
            1,
            [
                ("09:05", "alice", "Bread attempt two is in the oven."),
                ("09:40", "dave", "How did it turn out?"),
                ("11:20", "carol", "Did anyone see the fox in the car park this morning?"),
                ("11:21", "bob", "Yes! It sat there like it owned the place."),
                ("11:25", "dave", "It's there most mornings. I call it Steve."),
                ("11:26", "carol", "Steve the fox, perfect."),
                ("13:30", "bob", "Reminder: game night on Tuesday, 7 pm, in the big meeting room."),
                ("13:32", "carol", "I'll bring Azul."),
                ("13:35", "dave", "Ticket to Ride, just in case."),
                ("15:50", "carol", "Does anyone have a phone charger with the small connector?"),
                ("15:55", "dave", "Top drawer of my desk, help yourself."),
                ("15:56", "carol", "Thank you!"),
            ],
        ),
        Day(0, ends_minutes_ago=180, lines=[("08:00", "dave", "Morning. Steve is back.")]),
    ],
)

TEAM = DemoRoom(
    name="Team",
    topic="Plans and releases, members only",
    owner="alice",
    members=["bob", "erin"],
    is_private=True,
    days=[
        Day(
            5,
            [
                (
                    "09:30",
                    "alice",
                    "Stand-up: I'm on the release plan, @bob on deploy scripts, @erin on the FAQ.",
                ),
                ("09:32", "bob", "Deploy scripts: moving to one command, done by tomorrow."),
                ("09:35", "erin", "FAQ: 12 questions drafted, answers by Wednesday."),
                ("14:20", "bob", "Do we ship the new search in this release or the next?"),
                ("14:25", "alice", "This one, if it's been tried on a million messages."),
                ("14:26", "bob", "It has: under 50 ms a page."),
                ("14:27", "alice", "Then it goes in."),
            ],
        ),
        Day(
            4,
            [
                ("09:30", "alice", "Stand-up: search is merged, the release candidate is due on Thursday."),
                ("09:32", "bob", "Deploy scripts are down to one command: `make deploy`."),
                ("09:34", "erin", "The FAQ has 12 questions now. @alice could you read it today?"),
                ("09:35", "alice", "Yes, before lunch."),
                ("13:00", "bob", "Backups: I restored last night's onto staging, 4 minutes for everything."),
                ("13:02", "alice", "Good to know. Let's put that in the runbook."),
                ("13:20", "bob", "It's in the runbook.", EDITED),
                ("17:00", "erin", "I'll be out on Friday morning, back after lunch."),
                ("17:02", "alice", "Noted, thanks."),
            ],
        ),
        Day(
            3,
            [
                ("09:30", "alice", "Stand-up: the release is on Friday. Anything blocking?"),
                ("09:31", "bob", "Nothing blocking."),
                ("09:33", "erin", "I need someone to read the FAQ before it goes live."),
                ("09:34", "alice", "I'll read it this afternoon."),
                ("16:10", "alice", "Read the FAQ: two small suggestions in the doc, otherwise ready."),
                ("16:20", "erin", "Done, thanks!"),
            ],
        ),
        Day(
            2,
            [
                ("09:30", "alice", "Stand-up: next quarter's budget is approved 🎉"),
                ("09:31", "bob", "Great news!"),
                ("09:33", "erin", "Does that include the second support hire?"),
                ("09:35", "alice", "It does. The job post goes out next week."),
                ("09:36", "erin", "Wonderful."),
                ("11:50", "bob", "Staging runs the release candidate now."),
                ("11:52", "alice", "I'll click through it after lunch."),
                (
                    "14:40",
                    "alice",
                    "Found one thing on staging: the invite link is copied with a trailing space.",
                ),
                ("14:55", "bob", "Fixed, staging is updated."),
                ("14:58", "alice", "Confirmed fixed."),
            ],
        ),
        Day(
            1,
            [
                ("09:30", "alice", "Stand-up: release tomorrow. @bob you're on call, I'm the backup."),
                ("09:31", "bob", "On it. The pager is set up."),
                ("10:15", "erin", "Support inbox is quiet: 3 open tickets, all questions."),
                ("15:30", "bob", "Release notes draft is in the wiki, @alice please have a look."),
                ("15:45", "alice", "Looks good. I moved search to the top, it's the big one.", EDITED),
                ("16:00", "bob", "👍"),
            ],
        ),
        Day(
            0,
            ends_minutes_ago=20,
            lines=[
                ("08:30", "bob", "Tagged the release. Deploying at 9."),
                ("08:50", "bob", "Deployed. All health checks green."),
                ("08:51", "erin", "🎉"),
                ("08:55", "alice", "Thank you both. Plans for next week are in the doc."),
            ],
        ),
    ],
)

ROOMS = [LOBBY, DESIGN, RANDOM, TEAM]

ALICE_BOB = DemoConversation(
    people=["bob", "alice"],
    unread={"alice": READ_ALL},
    days=[
        Day(
            2,
            [
                ("18:10", "bob", "Quick one before the weekend: can you be my backup on call tomorrow?"),
                ("18:12", "alice", "Sure. Same pager rota as last time?"),
                ("18:13", "bob", "Yes, I'll page you only if the deploy goes sideways."),
                ("18:14", "alice", "Deal 👍"),
            ],
        ),
        Day(
            0,
            ends_minutes_ago=35,
            lines=[
                ("08:20", "bob", "Deploy checklist is open in the wiki, in case you want to follow along."),
                ("08:22", "alice", "Following. Ping me if anything looks odd."),
                ("08:52", "bob", "All green, you can stand down. Thanks for covering!"),
                ("08:53", "alice", "Anytime 🙂"),
            ],
        ),
    ],
)

ALICE_CAROL = DemoConversation(
    people=["carol", "alice"],
    days=[
        Day(
            1,
            [
                ("17:20", "carol", "Got a minute tomorrow to look at the new palette with me?"),
                ("17:25", "alice", "Yes, mid-morning works. Send me the link?"),
                ("17:26", "carol", "It's on the Colours page of the design file."),
            ],
        ),
        Day(
            0,
            ends_minutes_ago=2,
            lines=[
                ("10:41", "carol", "I pushed the dark theme colours too, same page."),
                ("10:43", "carol", "No rush: whenever you have five minutes 🙏"),
            ],
        ),
    ],
)

GAME_NIGHT = DemoConversation(
    people=["bob", "alice", "carol", "dave"],
    days=[
        Day(
            2,
            [
                ("19:02", "bob", "Made us a group for game night so Random stays random."),
                ("19:04", "carol", "Good call. Tuesday at 7 still?"),
                ("19:05", "dave", "Tuesday at 7 👍"),
                ("19:09", "alice", "I'll bring snacks. Any allergies?"),
                ("19:12", "dave", "No nuts for me, please."),
                ("19:13", "alice", "Noted: no nuts."),
            ],
        ),
        Day(
            0,
            ends_minutes_ago=45,
            lines=[
                ("09:10", "carol", "Azul is in my bag already."),
                ("09:14", "dave", "I booked the big meeting room until 10 pm."),
                ("09:15", "bob", "Perfect. See you all there 🎲"),
            ],
        ),
    ],
)

CONVERSATIONS = [ALICE_BOB, ALICE_CAROL, GAME_NIGHT]
