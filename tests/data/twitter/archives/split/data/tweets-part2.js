window.YTD.tweets.part2 = [
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1498636669547458577"
          ],
          "editableUntil" : "2022-03-01T13:30:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [ ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "23"
      ],
      "favorite_count" : "0",
      "in_reply_to_status_id_str" : "1498629119800258577",
      "id_str" : "1498636669547458577",
      "in_reply_to_user_id" : "3001960000",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1498636669547458577",
      "in_reply_to_status_id" : "1498629119800258577",
      "created_at" : "Tue Mar 01 12:30:00 +0000 2022",
      "favorited" : false,
      "full_text" : "Part two of the thread.",
      "lang" : "en",
      "in_reply_to_screen_name" : "marin",
      "in_reply_to_user_id_str" : "3001960000"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1498629119800258577"
          ],
          "editableUntil" : "2022-03-01T13:00:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [ ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "23"
      ],
      "favorite_count" : "0",
      "id_str" : "1498629119800258577",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1498629119800258577",
      "created_at" : "Tue Mar 01 12:00:00 +0000 2022",
      "favorited" : false,
      "full_text" : "A thread, in two parts.",
      "lang" : "en"
    }
  }
]
