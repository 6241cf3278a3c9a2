window.YTD.tweets.part1 = [
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1664179976401858577"
          ],
          "editableUntil" : "2023-06-01T09:00:00.000Z",
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
        "11"
      ],
      "favorite_count" : "0",
      "id_str" : "1664179976401858577",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1664179976401858577",
      "created_at" : "Thu Jun 01 08:00:00 +0000 2023",
      "favorited" : false,
      "full_text" : "Still here.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1498931109688258577"
          ],
          "editableUntil" : "2022-03-02T09:00:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [
          {
            "name" : "Alice",
            "screen_name" : "alice",
            "indices" : [
              "0",
              "6"
            ],
            "id_str" : "1468258371",
            "id" : "1468258371"
          }
        ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "17"
      ],
      "favorite_count" : "0",
      "in_reply_to_status_id_str" : "1498636669547458577",
      "id_str" : "1498931109688258577",
      "in_reply_to_user_id" : "1468258371",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1498931109688258577",
      "in_reply_to_status_id" : "1498636669547458577",
      "created_at" : "Wed Mar 02 08:00:00 +0000 2022",
      "favorited" : false,
      "full_text" : "@alice Thank you!",
      "lang" : "en",
      "in_reply_to_screen_name" : "alice",
      "in_reply_to_user_id_str" : "1468258371"
    }
  }
]
